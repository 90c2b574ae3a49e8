import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parseHealthConfig } from "./config";
import { dnsOf, trustedCertificates, writeState } from "./node";
import { initialMemory } from "./run";

const base = {
  fqdn: "www.lab.test",
  ttl: 30,
  children: [{ name: "lab-child-1", address: "10.231.0.21", privateAddress: "10.1.0.21" }],
  dns: { provider: "rfc2136", server: "10.231.0.2", port: 53, zone: "lab.test", keyName: "lab-update", algorithm: "hmac-sha256" },
};

describe("the agent on its machine", () => {
  it("builds the DNS adapter of its config, with the credential from health.env only", () => {
    const c = parseHealthConfig(JSON.stringify(base));
    assert.throws(() => dnsOf(c, {}), /DJANGO_HA_DNS_TSIG_SECRET is not set: the bootstrap writes it to \/etc\/django-ha\/health.env/);
    assert.equal(dnsOf(c, { DJANGO_HA_DNS_TSIG_SECRET: "c2VjcmV0" }).describe, "rfc2136 10.231.0.2:53 zone lab.test key lab-update");
    const d = parseHealthConfig(JSON.stringify({ ...base, dns: { provider: "digitalocean", domain: "example.com" } }));
    assert.throws(() => dnsOf(d, {}), /DIGITALOCEAN_TOKEN is not set: the bootstrap writes it to \/etc\/django-ha\/health.env/);
    assert.equal(dnsOf(d, { DIGITALOCEAN_TOKEN: "t" }).describe, "digitalocean domain example.com");
  });

  it("trusts the system store and the certificate the share holds for the record, when they exist", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dha-trust-"));
    assert.deepEqual(trustedCertificates("www.lab.test", dir).length, fs.existsSync("/etc/ssl/certs/ca-certificates.crt") ? 1 : 0);
    fs.mkdirSync(path.join(dir, "www.lab.test"));
    fs.writeFileSync(path.join(dir, "www.lab.test", "fullchain.pem"), "PEM");
    assert.equal(trustedCertificates("www.lab.test", dir).at(-1), "PEM");
  });

  it("writes its state for `status` in one piece", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dha-state-")), "run", "state.json");
    writeState({ ...initialMemory(), acting: true, record: ["10.231.0.21"] }, file, new Date("2026-12-01T07:00:00Z"));
    assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), {
      at: "2026-12-01T07:00:00.000Z",
      acting: true,
      record: ["10.231.0.21"],
      children: {},
      lastProbes: [],
      lastError: null,
    });
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["state.json"], "no temp file left");
  });
});
