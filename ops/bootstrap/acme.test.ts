import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { fixtureAcme, fixtureInventory } from "../../roles/fixtures";
import type { CertificateSpec } from "../../model";
import { UserError } from "../../model/errors";
import { acmeDnsSecret, bindKeySecret } from "./acme";
import { loadOrCreateSecrets } from "./bootstrapCluster";

const http01 = fixtureAcme().certificate;
const dns01 = (dnsKeyName?: string): CertificateSpec => ({
  ...http01,
  challenge: "dns-01",
  ...(dnsKeyName ? { dnsKeyName } : { dnsKeyName: undefined }),
});
const rfc2136 = fixtureInventory();
const digitalocean = fixtureInventory({ dns: { kind: "digitalocean", domain: "lab.test", recordName: "www" } });
const route53 = fixtureInventory({ dns: { kind: "route53", hostedZoneId: "Z1", recordName: "www.lab.test" } });

describe("the DNS-01 credential of a bootstrap outside Pulumi", () => {
  it("none for http-01 and for Route 53 (the instance role)", () => {
    assert.equal(acmeDnsSecret({ stack: "s", inventory: rfc2136, certificate: http01, env: {} }), undefined);
    assert.equal(acmeDnsSecret({ stack: "s", inventory: route53, certificate: dns01(), env: {} }), undefined);
  });

  it("hosts: the narrower key's secret from DJANGO_HA_ACME_TSIG_SECRET, else the record's from DJANGO_HA_TSIG_SECRET; a missing one says how to set it", () => {
    assert.equal(
      acmeDnsSecret({
        stack: "s",
        inventory: rfc2136,
        certificate: dns01("lab-acme"),
        env: { DJANGO_HA_ACME_TSIG_SECRET: "bmFycm93", DJANGO_HA_TSIG_SECRET: "d2lkZQ==" },
      }),
      "bmFycm93",
    );
    assert.equal(
      acmeDnsSecret({ stack: "s", inventory: rfc2136, certificate: dns01(), env: { DJANGO_HA_TSIG_SECRET: "d2lkZQ==" } }),
      "d2lkZQ==",
    );
    assert.throws(
      () => acmeDnsSecret({ stack: "prod", inventory: rfc2136, certificate: dns01("lab-acme"), env: {} }),
      (e: unknown) =>
        e instanceof UserError &&
        /DJANGO_HA_ACME_TSIG_SECRET is not set: .*pulumi config get --stack prod django-ha:acmeTsigSecret/.test(e.message),
    );
  });

  it("digitalocean: DJANGO_HA_ACME_DNS_TOKEN, never the provider's own token", () => {
    assert.equal(
      acmeDnsSecret({ stack: "s", inventory: digitalocean, certificate: dns01(), env: { DJANGO_HA_ACME_DNS_TOKEN: "dop_v1_scoped" } }),
      "dop_v1_scoped",
    );
    assert.throws(
      () => acmeDnsSecret({ stack: "s", inventory: digitalocean, certificate: dns01(), env: { DIGITALOCEAN_TOKEN: "dop_v1_full" } }),
      /DJANGO_HA_ACME_DNS_TOKEN is not set: .*scoped to domain read\/write/,
    );
  });

  it("the lab: its key files (acme-tsig.key in BIND's syntax for the narrow key, dns/tsig.json for the record's)", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "dha-acme-"));
    fs.writeFileSync(path.join(root, "acme-tsig.key"), 'key "lab-acme" {\n\talgorithm hmac-sha256;\n\tsecret "bGFiLWFjbWU=";\n};\n', {
      mode: 0o600,
    });
    fs.mkdirSync(path.join(root, "dns"));
    fs.writeFileSync(
      path.join(root, "dns", "tsig.json"),
      JSON.stringify({ name: "lab-update", algorithm: "hmac-sha256", secret: "bGFiLXVwZGF0ZQ==" }),
    );
    assert.equal(
      acmeDnsSecret({ stack: "lab", inventory: rfc2136, certificate: dns01("lab-acme"), labRoot: root, env: {} }),
      "bGFiLWFjbWU=",
    );
    assert.equal(acmeDnsSecret({ stack: "lab", inventory: rfc2136, certificate: dns01(), labRoot: root, env: {} }), "bGFiLXVwZGF0ZQ==");
    assert.throws(
      () => acmeDnsSecret({ stack: "lab", inventory: rfc2136, certificate: dns01("lab-acme"), labRoot: path.join(root, "none"), env: {} }),
      /does not exist: start the lab/,
    );
    assert.throws(() => bindKeySecret("not a key", "f"), /f is not a BIND key file/);
  });
});

describe("the secrets file of runs outside Pulumi", () => {
  it("a file from before the TLS passphrase gets one added, the other secrets untouched; 0600 kept", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dha-sec-")), "secrets.json");
    const old = {
      dbPassword: "a".repeat(32),
      replicationPassword: "b".repeat(32),
      redisPassword: "c".repeat(32),
      djangoSecretKey: "d".repeat(64),
    };
    fs.writeFileSync(file, JSON.stringify(old), { mode: 0o600 });
    const s = loadOrCreateSecrets(file);
    assert.deepEqual({ ...s, tlsPassphrase: undefined }, { ...old, tlsPassphrase: undefined });
    assert.match(s.tlsPassphrase, /^[A-Za-z0-9]{48}$/);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadOrCreateSecrets(file), s, "stable once written");
  });
});
