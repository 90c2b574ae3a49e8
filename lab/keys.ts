import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { UserError } from "../model/errors";
import { ACME_TSIG_KEY_NAME, HEALTH_TSIG_KEY_NAME, LabPaths, TSIG_ALGORITHM, TSIG_KEY_NAME } from "./config";
import { run } from "../ops/process";
import { renderTsigKey } from "./render";

export interface TsigKey {
  name: string;
  algorithm: string;
  secret: string;
}

/** The lab's SSH key pair (made once, kept across `down`). Returns the public key. */
export async function ensureSshKey(paths: LabPaths): Promise<string> {
  fs.mkdirSync(path.dirname(paths.sshKey), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(paths.sshKey)) {
    await run({ cmd: "ssh-keygen", args: ["-q", "-t", "ed25519", "-N", "", "-C", "django-ha-lab", "-f", paths.sshKey] });
  }
  fs.chmodSync(paths.sshKey, 0o600);
  return fs.readFileSync(`${paths.sshKey}.pub`, "utf8").trim();
}

/** The lab's TSIG key: 256 random bits, written mode 0600, never printed. */
export function ensureTsigKey(paths: LabPaths): TsigKey {
  fs.mkdirSync(path.dirname(paths.tsigKey), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(paths.tsigKey)) {
    const key: TsigKey = { name: TSIG_KEY_NAME, algorithm: TSIG_ALGORITHM, secret: randomBytes(32).toString("base64") };
    fs.writeFileSync(paths.tsigKey, JSON.stringify(key) + "\n", { mode: 0o600 });
  }
  const key = readTsigKey(paths);
  fs.writeFileSync(paths.tsigKeyFile, renderTsigKey(key.name, key.secret, key.algorithm), { mode: 0o600 });
  fs.chmodSync(paths.tsigKey, 0o600);
  fs.chmodSync(paths.tsigKeyFile, 0o600);
  return key;
}

export function readTsigKey(paths: LabPaths): TsigKey {
  if (!fs.existsSync(paths.tsigKey))
    throw new UserError(`The lab's TSIG key ${paths.tsigKey} does not exist: run \`npm run lab -- up\` first.`);
  return JSON.parse(fs.readFileSync(paths.tsigKey, "utf8")) as TsigKey;
}

/**
 * The lab's second TSIG key (lab-acme): the lab DNS lets it change only TXT records at _acme-challenge.<name>
 * (DNS-01). Kept in BIND's key-file syntax (`nsupdate -k .lab/acme-tsig.key`), mode 0600, made once, never printed.
 */
export function ensureAcmeTsigKey(paths: Pick<LabPaths, "acmeTsigKey">): TsigKey {
  return ensureNarrowKey(paths.acmeTsigKey, ACME_TSIG_KEY_NAME);
}

/** The lab-acme key from its key file (what `ensureAcmeTsigKey` wrote). */
export function readAcmeTsigKey(paths: Pick<LabPaths, "acmeTsigKey">): TsigKey {
  return readNarrowKey(paths.acmeTsigKey, "ACME");
}

/** The lab's third TSIG key (lab-health): only A records at the record's name, what the health agent changes. */
export function ensureHealthTsigKey(paths: Pick<LabPaths, "healthTsigKey">): TsigKey {
  return ensureNarrowKey(paths.healthTsigKey, HEALTH_TSIG_KEY_NAME);
}

/** The lab-health key from its key file (what `ensureHealthTsigKey` wrote). */
export function readHealthTsigKey(paths: Pick<LabPaths, "healthTsigKey">): TsigKey {
  return readNarrowKey(paths.healthTsigKey, "health agent's");
}

function ensureNarrowKey(file: string, name: string): TsigKey {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, renderTsigKey(name, randomBytes(32).toString("base64"), TSIG_ALGORITHM), { mode: 0o600 });
  }
  fs.chmodSync(file, 0o600);
  return parseTsigKeyFile(fs.readFileSync(file, "utf8"), file);
}

function readNarrowKey(file: string, what: string): TsigKey {
  if (!fs.existsSync(file)) throw new UserError(`The lab's ${what} TSIG key ${file} does not exist: run \`npm run lab -- up\` first.`);
  return parseTsigKeyFile(fs.readFileSync(file, "utf8"), file);
}

/** A key file in BIND's syntax (renderTsigKey's output) back to its name, algorithm and secret. Pure. */
export function parseTsigKeyFile(text: string, file = "the key file"): TsigKey {
  const m = /key\s+"([^"]+)"\s*\{\s*algorithm\s+([\w-]+);\s*secret\s+"([A-Za-z0-9+/=]+)";\s*\};/.exec(text);
  if (!m)
    throw new UserError(
      `${file} is not a BIND key file (key "<name>" { algorithm …; secret "…"; };): run \`npm run lab -- down --purge\` and up again to make a new one.`,
    );
  return { name: m[1], algorithm: m[2], secret: m[3] };
}
