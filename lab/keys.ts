import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { LabPaths, TSIG_ALGORITHM, TSIG_KEY_NAME } from "./config";
import { run } from "./exec";
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
  if (!fs.existsSync(paths.tsigKey)) throw new Error(`The lab's TSIG key ${paths.tsigKey} does not exist: run \`npm run lab -- up\` first.`);
  return JSON.parse(fs.readFileSync(paths.tsigKey, "utf8")) as TsigKey;
}
