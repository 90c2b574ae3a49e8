import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { testCa, testLeaf } from "../../test/acme-certs";
import { decryptKey, encryptKey, keyMatchesCert } from "./keys";

describe("keys on the share", () => {
  it("are encrypted PKCS#8 (aes-256-cbc) that the passphrase opens, and openssl too (the children's tls-sync)", async () => {
    const ca = await testCa();
    const leaf = await testLeaf(ca, { names: ["www.django-ha.dev"], notBefore: new Date(), notAfter: new Date(Date.now() + 86400_000) });
    const enc = encryptKey(leaf.keyPem, "correct horse");
    assert.match(enc, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.ok(!enc.includes(leaf.keyPem.split("\n")[1]));
    assert.equal(decryptKey(enc, "correct horse", "privkey.pem.enc"), leaf.keyPem);
    assert.ok(keyMatchesCert(decryptKey(enc, "correct horse", "k"), leaf.chainPem));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acme-keys-"));
    fs.writeFileSync(path.join(dir, "k.enc"), enc);
    const asn1 = execFileSync("openssl", ["asn1parse", "-in", path.join(dir, "k.enc")], { encoding: "utf8" });
    assert.match(asn1, /aes-256-cbc/);
    const plain = execFileSync("openssl", ["pkey", "-in", path.join(dir, "k.enc"), "-passin", "env:PASS"], {
      encoding: "utf8",
      env: { ...process.env, PASS: "correct horse" },
    });
    assert.equal(plain, leaf.keyPem);
    fs.rmSync(dir, { recursive: true });
  });

  it("refuses a wrong passphrase, a plain key and an empty passphrase, naming the file", async () => {
    const ca = await testCa();
    const leaf = await testLeaf(ca, { names: ["a.django-ha.dev"], notBefore: new Date(), notAfter: new Date(Date.now() + 86400_000) });
    const other = await testLeaf(ca, { names: ["b.django-ha.dev"], notBefore: new Date(), notAfter: new Date(Date.now() + 86400_000) });
    assert.throws(
      () => decryptKey(encryptKey(leaf.keyPem, "a"), "b", "/srv/share/tls/x/privkey.pem.enc"),
      /privkey.pem.enc cannot be decrypted with DJANGO_HA_TLS_PASSPHRASE/,
    );
    assert.throws(() => decryptKey(leaf.keyPem, "a", "account.key.enc"), /account.key.enc is not an encrypted PKCS#8 key/);
    assert.throws(() => encryptKey(leaf.keyPem, ""), /DJANGO_HA_TLS_PASSPHRASE is empty/);
    assert.ok(!keyMatchesCert(other.keyPem, leaf.chainPem));
  });
});
