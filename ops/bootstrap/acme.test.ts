import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { fixtureAcme, fixtureInventory } from "../../roles/fixtures";
import type { CertificateSpec } from "../../model";
import { UserError } from "../../model/errors";
import { acmeDnsSecret } from "./acme";
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

  it("a source that made the DNS server's keys (the lab) is asked by key name: the narrower key's, else the record's; the environment unused", () => {
    const asked: string[] = [];
    const capabilities = { tsigSecret: (name: string) => (asked.push(name), `secret-of-${name}`) };
    const env = { DJANGO_HA_ACME_TSIG_SECRET: "ZW52", DJANGO_HA_TSIG_SECRET: "ZW52" };
    assert.equal(
      acmeDnsSecret({ stack: "lab", inventory: rfc2136, certificate: dns01("lab-acme"), capabilities, env }),
      "secret-of-lab-acme",
    );
    assert.equal(acmeDnsSecret({ stack: "lab", inventory: rfc2136, certificate: dns01(), capabilities, env }), "secret-of-lab-update");
    assert.equal(acmeDnsSecret({ stack: "lab", inventory: rfc2136, certificate: http01, capabilities, env }), undefined);
    assert.deepEqual(asked, ["lab-acme", "lab-update"]);
    assert.equal(
      acmeDnsSecret({ stack: "s", inventory: rfc2136, certificate: dns01(), capabilities: {}, env }),
      "ZW52",
      "a source without keys: the environment",
    );
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
