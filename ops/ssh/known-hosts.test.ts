import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import {
  checkHostKey,
  fingerprint,
  HostKeyMismatchError,
  knownHostName,
  KnownHostsFile,
  offeredKey,
  parseKnownHosts,
  withoutHosts,
} from "./known-hosts";

/** An SSH wire-format key blob: string type, then some key bytes. */
function blob(type: string, body: string): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(body)]);
}

describe("known hosts", () => {
  const keyA = blob("ssh-ed25519", "key-a");
  const keyB = blob("ssh-ed25519", "key-b");

  it("reads the key type from the blob", () => {
    assert.deepEqual(offeredKey(keyA), { type: "ssh-ed25519", key: keyA.toString("base64") });
    assert.throws(() => offeredKey(Buffer.from([0, 0])), /too short/);
  });

  it("forgets exactly the named hosts (plain, multi-name, hashed, with a port), keeping every other line as written", () => {
    const salt = crypto.randomBytes(20);
    const hashed = `|1|${salt.toString("base64")}|${crypto.createHmac("sha1", salt).update("[10.0.0.5]:2222").digest("base64")}`;
    const lines = [
      "# kept comment",
      `10.0.0.1 ssh-ed25519 ${keyA.toString("base64")}`,
      `lab-db-1,10.0.0.2 ssh-ed25519 ${keyA.toString("base64")}`,
      `${hashed} ssh-ed25519 ${keyB.toString("base64")}`,
      `[10.0.0.1]:2222 ssh-ed25519 ${keyB.toString("base64")}`,
      "",
    ];
    assert.equal(withoutHosts(lines.join("\n"), ["10.0.0.2", "[10.0.0.5]:2222"]), [lines[0], lines[1], lines[4], ""].join("\n"));
    assert.equal(withoutHosts(lines.join("\n"), ["10.0.0.9"]), lines.join("\n"));
  });

  it("names hosts like OpenSSH", () => {
    assert.equal(knownHostName("10.0.0.1", 22), "10.0.0.1");
    assert.equal(knownHostName("127.0.0.1", 2222), "[127.0.0.1]:2222");
  });

  it("parses plain, multi-name and hashed entries, skipping comments and markers", () => {
    const salt = crypto.randomBytes(20);
    const hash = crypto.createHmac("sha1", salt).update("[h]:2200").digest("base64");
    const text = [
      "# comment",
      "",
      `a,b ssh-ed25519 ${keyA.toString("base64")}`,
      `@cert-authority * ssh-ed25519 AAAA`,
      `|1|${salt.toString("base64")}|${hash} ssh-ed25519 ${keyB.toString("base64")}`,
    ].join("\n");
    const entries = parseKnownHosts(text);
    assert.equal(entries.length, 2);
    assert.deepEqual(checkHostKey(entries, "b", 22, offeredKey(keyA)), { status: "known" });
    assert.deepEqual(checkHostKey(entries, "h", 2200, offeredKey(keyB)), { status: "known" });
    assert.equal(checkHostKey(entries, "h", 2200, offeredKey(keyA)).status, "mismatch");
    assert.deepEqual(checkHostKey(entries, "h", 22, offeredKey(keyA)), { status: "unknown" });
  });

  it("pins on first contact, accepts the same key, refuses a changed key with the fix", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kh-"));
    const file = path.join(dir, "sub", "known_hosts");
    const said: string[] = [];
    const kh = new KnownHostsFile(file, (m) => said.push(m));
    kh.verify("127.0.0.1", 2222, keyA);
    assert.equal(said.length, 1);
    assert.match(said[0], /pinned host key of \[127\.0\.0\.1\]:2222: ssh-ed25519 SHA256:/);
    assert.equal(fs.readFileSync(file, "utf8"), `[127.0.0.1]:2222 ssh-ed25519 ${keyA.toString("base64")}\n`);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    kh.verify("127.0.0.1", 2222, keyA);
    assert.equal(said.length, 1, "a known key is not pinned again");
    assert.throws(
      () => kh.verify("127.0.0.1", 2222, keyB),
      (e: unknown) =>
        e instanceof HostKeyMismatchError &&
        e.message.includes(fingerprint(keyB.toString("base64"))) &&
        e.message.includes(`ssh-keygen -R '[127.0.0.1]:2222' -f ${file}`),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
