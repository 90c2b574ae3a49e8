import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { labPaths } from "./config";
import { labChallengeNames } from "./infra";
import { ensureAcmeTsigKey, parseTsigKeyFile, readAcmeTsigKey } from "./keys";
import { ensureLabCa, installTrust, pebbleDirectoryUrl, renderPebbleConfig, renderPebbleUnit, TRUST_FILES } from "./pebble";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lab-pebble-test-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("pebble config", () => {
  it("listens for ACME on 14000 and management on 15000, validates on 80/443, with the given lifetime", () => {
    const c = JSON.parse(renderPebbleConfig(120)) as { pebble: Record<string, unknown> };
    assert.deepEqual(
      { ...c.pebble },
      {
        listenAddress: "0.0.0.0:14000",
        managementListenAddress: "0.0.0.0:15000",
        certificate: "/etc/pebble/django-ha-lab-listener.pem",
        privateKey: "/etc/pebble/django-ha-lab-listener.key",
        httpPort: 80,
        tlsPort: 443,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
        certificateValidityPeriod: 120,
        retryAfter: { authz: 3, order: 5 },
      },
    );
    assert.equal(pebbleDirectoryUrl(), "https://10.231.0.3:14000/dir");
  });
  it("refuses a lifetime that is not a whole number of seconds ≥ 1, naming it", () => {
    for (const bad of [0, -5, 1.5, Number.NaN])
      assert.throws(() => renderPebbleConfig(bad), /acmeValiditySeconds = .*whole number of seconds/);
  });
  it("unit: resolves through the lab DNS, no VA sleeps, no authorization reuse, never restarted behind the nodes' back", () => {
    const unit = renderPebbleUnit();
    assert.match(unit, /^ExecStart=\/usr\/bin\/pebble -config \/etc\/pebble\/django-ha-lab\.json -dnsserver 10\.231\.0\.2:53$/m);
    assert.match(unit, /^Environment=PEBBLE_VA_NOSLEEP=1$/m);
    assert.match(unit, /^Environment=PEBBLE_AUTHZREUSE=0$/m);
    assert.match(unit, /^Restart=no$/m);
    assert.match(unit, /^WantedBy=multi-user\.target$/m);
  });
  it("the ACME key may write _acme-challenge TXT for the apex, the record, the CA and every machine", () => {
    const names = labChallengeNames(
      { domain: "lab.test", recordFqdn: "www.lab.test" },
      [{ name: "lab-db-1", address: "10.231.0.11", kind: "parent" }],
      ["shop.lab.test", "other.example"],
    );
    assert.deepEqual(names, [
      "_acme-challenge.acme.lab.test",
      "_acme-challenge.lab-db-1.lab.test",
      "_acme-challenge.lab.test",
      "_acme-challenge.shop.lab.test",
      "_acme-challenge.www.lab.test",
    ]);
  });
});

describe("lab CA (openssl)", () => {
  const paths = labPaths(path.join(tmp, "lab"));
  it("makes a CA once and a listener certificate for acme.<zone> and 10.231.0.3 that verifies against it; keys 0600", async () => {
    await ensureLabCa(paths, "lab.test");
    const ca = fs.readFileSync(paths.labCa, "utf8");
    await ensureLabCa(paths, "lab.test");
    assert.equal(fs.readFileSync(paths.labCa, "utf8"), ca, "the CA is kept");
    for (const key of [paths.labCaKey, paths.pebbleKey]) assert.equal(fs.statSync(key).mode & 0o777, 0o600, key);
    const verify = execFileSync(
      "openssl",
      ["verify", "-CAfile", paths.labCa, "-purpose", "sslserver", "-verify_hostname", "acme.lab.test", paths.pebbleCert],
      { encoding: "utf8" },
    );
    assert.match(verify, /: OK/);
    const ip = execFileSync("openssl", ["verify", "-CAfile", paths.labCa, "-verify_ip", "10.231.0.3", paths.pebbleCert], {
      encoding: "utf8",
    });
    assert.match(ip, /: OK/);
    const other = (() => {
      try {
        execFileSync("openssl", ["verify", "-CAfile", paths.labCa, "-verify_hostname", "www.lab.test", paths.pebbleCert], {
          stdio: "pipe",
        });
        return "verified";
      } catch {
        return "refused";
      }
    })();
    assert.equal(other, "refused", "the listener certificate is for acme.lab.test only");
  });
});

describe("ACME TSIG key", () => {
  it("is made once, mode 0600, in BIND's key-file syntax, and read back", () => {
    const paths = { acmeTsigKey: path.join(tmp, "acme-tsig.key") };
    const key = ensureAcmeTsigKey(paths);
    assert.equal(key.name, "lab-acme");
    assert.equal(key.algorithm, "hmac-sha256");
    assert.equal(Buffer.from(key.secret, "base64").length, 32);
    assert.equal(fs.statSync(paths.acmeTsigKey).mode & 0o777, 0o600);
    assert.deepEqual(ensureAcmeTsigKey(paths), key, "kept across calls");
    assert.deepEqual(readAcmeTsigKey(paths), key);
    assert.throws(() => parseTsigKeyFile("nonsense", "k.key"), /k\.key is not a BIND key file/);
  });
});

describe("installTrust", () => {
  it("writes both certificates into the node's trust store and runs its update-ca-certificates only when they changed", async () => {
    const root = path.join(tmp, "node");
    // The node's own update-ca-certificates (chroot) runs in the lab test; here the call is recorded.
    const calls: string[] = [];
    const certs = {
      labCa: "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n",
      pebbleRoot: "-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n",
    };
    const run = async () => void calls.push("update-ca-certificates");
    assert.equal(await installTrust(root, certs, run), true);
    assert.equal(fs.readFileSync(path.join(root, TRUST_FILES.labCa), "utf8"), certs.labCa);
    assert.equal(fs.readFileSync(path.join(root, TRUST_FILES.pebbleRoot), "utf8"), certs.pebbleRoot);
    assert.equal(await installTrust(root, certs, run), false, "nothing changed");
    assert.equal(await installTrust(root, { ...certs, pebbleRoot: certs.labCa }, run), true, "a new pebble root");
    assert.deepEqual(calls, ["update-ca-certificates", "update-ca-certificates"]);
  });
});
