import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { UserError } from "../../model/errors";

/** One host key line of an OpenSSH known_hosts file. */
export interface KnownHostEntry {
  /** Host patterns as written (`name`, `[name]:2222`, comma-separated in the file), or one hashed `|1|salt|hash`. */
  hosts: string[];
  type: string;
  /** Base64 of the key blob, exactly as OpenSSH writes it. */
  key: string;
}

/** The host key a server offered: its type and its blob in base64 (the known_hosts form). */
export interface OfferedKey {
  type: string;
  key: string;
}

/** Read the key type from an SSH wire-format public key blob (uint32 length + type name first). */
export function offeredKey(blob: Buffer): OfferedKey {
  if (blob.length < 4) throw new Error("host key blob too short");
  const len = blob.readUInt32BE(0);
  if (len <= 0 || len > 64 || 4 + len > blob.length) throw new Error("host key blob has no valid type name");
  return { type: blob.subarray(4, 4 + len).toString("ascii"), key: blob.toString("base64") };
}

/** How OpenSSH names a host in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Parse known_hosts text. Comments, blank lines, markers (@revoked, @cert-authority) and junk are skipped. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith("@")) continue;
    const [hosts, type, key] = line.split(/\s+/);
    if (!hosts || !type || !key) continue;
    entries.push({ hosts: hosts.split(","), type, key });
  }
  return entries;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith("|1|")) {
    // Hashed entry (HashKnownHosts yes): |1|base64(salt)|base64(HMAC-SHA1(salt, name)).
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    const mac = crypto.createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64");
    return mac === hash;
  }
  return pattern === name;
}

export type HostKeyVerdict = { status: "known" } | { status: "unknown" } | { status: "mismatch"; pinned: KnownHostEntry[] };

/** Compare an offered key with what is pinned for host:port. Pure. */
export function checkHostKey(entries: KnownHostEntry[], host: string, port: number, offered: OfferedKey): HostKeyVerdict {
  const name = knownHostName(host, port);
  const pinned = entries.filter((e) => e.hosts.some((p) => patternMatches(p, name)));
  if (pinned.length === 0) return { status: "unknown" };
  if (pinned.some((e) => e.type === offered.type && e.key === offered.key)) return { status: "known" };
  return { status: "mismatch", pinned };
}

/**
 * known_hosts text without the lines that pin any of `names` (`host` or `[host]:port`, hashed or not); every
 * other line is kept as written. Pure.
 */
export function withoutHosts(text: string, names: readonly string[]): string {
  return text
    .split("\n")
    .filter((raw) => {
      const [entry] = parseKnownHosts(raw);
      return !entry || !entry.hosts.some((p) => names.some((n) => patternMatches(p, n)));
    })
    .join("\n");
}

/** SHA256 fingerprint as `ssh-keygen -l` prints it. */
export function fingerprint(keyBase64: string): string {
  return `SHA256:${crypto.createHash("sha256").update(Buffer.from(keyBase64, "base64")).digest("base64").replace(/=+$/, "")}`;
}

/** A host presented a key other than the one pinned for it: refuse, and say how to accept a rebuilt machine. */
export class HostKeyMismatchError extends UserError {
  constructor(host: string, port: number, file: string, offered: OfferedKey) {
    const name = knownHostName(host, port);
    super(
      `Host key of ${name} changed: it offered ${offered.type} ${fingerprint(offered.key)}, which is not the key pinned in ${file}. ` +
        `Refusing to connect (this is what a man-in-the-middle looks like). If the machine was rebuilt on purpose, ` +
        `remove its old key with: ssh-keygen -R '${name}' -f ${file}   and run again; the new key is pinned on first contact.`,
    );
    this.name = "HostKeyMismatchError";
  }
}

/**
 * A known_hosts file used for trust on first use: an unknown host is pinned (and reported), a known host
 * must present the pinned key, a changed key is refused. One file per stack (.django-ha/<stack>/known_hosts).
 */
export class KnownHostsFile {
  constructor(
    readonly file: string,
    private readonly onPinned: (message: string) => void = () => {},
  ) {}

  private entries(): KnownHostEntry[] {
    return fs.existsSync(this.file) ? parseKnownHosts(fs.readFileSync(this.file, "utf8")) : [];
  }

  /**
   * Drop what is pinned for these hosts: only for a machine the stack itself replaced (Pulumi created a new
   * one at the same address), whose new key is then pinned on first contact like the first machine's.
   */
  forget(hosts: readonly { host: string; port: number }[]): void {
    if (!fs.existsSync(this.file)) return;
    fs.writeFileSync(
      this.file,
      withoutHosts(
        fs.readFileSync(this.file, "utf8"),
        hosts.map((h) => knownHostName(h.host, h.port)),
      ),
      { mode: 0o600 },
    );
  }

  /**
   * Verify (or pin) the key a host offered. Returns normally when the key is acceptable and throws
   * HostKeyMismatchError when it is not. Synchronous, so it fits ssh2's hostVerifier.
   */
  verify(host: string, port: number, blob: Buffer): void {
    const offered = offeredKey(blob);
    const verdict = checkHostKey(this.entries(), host, port, offered);
    if (verdict.status === "known") return;
    if (verdict.status === "mismatch") throw new HostKeyMismatchError(host, port, this.file, offered);
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    fs.appendFileSync(this.file, `${knownHostName(host, port)} ${offered.type} ${offered.key}\n`, { mode: 0o600 });
    this.onPinned(
      `pinned host key of ${knownHostName(host, port)}: ${offered.type} ${fingerprint(offered.key)} (first contact, saved in ${this.file})`,
    );
  }
}
