import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../model/errors";
import { goodConfig } from "../../test/acme-config";
import { agentSecrets, parseAgentConfig } from "./config";

const parse = (over: Record<string, unknown>) => parseAgentConfig(JSON.stringify({ ...goodConfig, ...over }), "acme.json");
const issues = (over: Record<string, unknown>) => {
  try {
    parse(over);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map((i) => `${i.key} = ${i.value}: ${i.fix}`);
  }
  assert.fail("expected a ConfigError");
};

describe("agent config (acme.json)", () => {
  it("accepts the bootstrap's config, http-01 and dns-01 with each provider", () => {
    assert.equal(parse({}).challenge, "http-01");
    const rfc = parse({
      challenge: "dns-01",
      dns: { provider: "rfc2136", server: "10.231.0.2", zone: "lab.test", keyName: "lab-acme", algorithm: "hmac-sha256" },
    });
    assert.deepEqual(rfc.dns, {
      provider: "rfc2136",
      server: "10.231.0.2",
      port: 53,
      zone: "lab.test",
      keyName: "lab-acme",
      algorithm: "hmac-sha256",
    });
    assert.equal(parse({ challenge: "dns-01", dns: { provider: "digitalocean", domain: "django-ha.dev" } }).dns?.provider, "digitalocean");
    assert.equal(
      parse({ challenge: "dns-01", dns: { provider: "route53", hostedZoneId: "Z0123456789ABCDEFGHIJ" }, profile: "shortlived" }).profile,
      "shortlived",
    );
  });

  it("names the key, the value and the fix for every problem at once", () => {
    const found = issues({
      directoryUrl: "http://ca/dir",
      checkEverySeconds: 1.5,
      children: [{ name: "c", address: "not-an-ip" }],
      extra: 1,
    });
    assert.equal(found.length, 4, found.join("\n"));
    assert.match(found.join("\n"), /directoryUrl = "http:\/\/ca\/dir": must be the CA's https directory URL/);
    assert.match(found.join("\n"), /checkEverySeconds = 1.5: must be a whole number of seconds/);
    assert.match(found.join("\n"), /children\[0\]\.address = "not-an-ip": must be the child's private IPv4 address/);
    assert.match(found.join("\n"), /extra = 1: unknown key: remove it/);
  });

  it("catches what only shows across fields", () => {
    assert.match(issues({ certName: "api.django-ha.dev" }).join(), /certName = "api.django-ha.dev": must be one of names/);
    assert.match(issues({ names: ["www.django-ha.dev", "www.django-ha.dev"] }).join(), /lists www.django-ha.dev twice/);
    assert.match(
      issues({ names: ["www.django-ha.dev", "*.django-ha.dev"] }).join(),
      /challenge = "http-01": \*.django-ha.dev is a wildcard, which only dns-01 can prove/,
    );
    assert.match(issues({ challenge: "dns-01" }).join(), /dns = \(not set\): dns-01 needs the DNS provider/);
    assert.match(issues({ children: [] }).join(), /children = \[\]: http-01 is checked on every child/);
    assert.match(issues({ email: "ops@example.com" }).join(), /email = "ops@example.com": the ACME contact/);
    assert.match(
      issues({ backoff: { baseSeconds: 600, capSeconds: 60 } }).join(),
      /backoff.capSeconds = 60: must be at least backoff.baseSeconds \(600\)/,
    );
  });

  it("refuses a backoff that would exceed Let's Encrypt's failed-validation limit, but not for another CA", () => {
    assert.match(
      issues({ backoff: { baseSeconds: 30, capSeconds: 21600 } }).join(),
      /backoff.baseSeconds = 30: allows 7 failed attempts in an hour; Let's Encrypt allows 5/,
    );
    assert.equal(
      parse({ directoryUrl: "https://10.231.0.3:14000/dir", email: "ops@lab.test", backoff: { baseSeconds: 5, capSeconds: 60 } }).backoff
        .baseSeconds,
      5,
    );
  });

  it("says when the file is not JSON", () => {
    assert.throws(() => parseAgentConfig("{", "acme.json"), /Invalid django-ha config in acme.json[\s\S]*is not JSON/);
  });
});

describe("agent secrets (acme.env)", () => {
  it("needs the passphrase always and the provider's secret for dns-01", () => {
    const c = parse({
      challenge: "dns-01",
      dns: { provider: "rfc2136", server: "10.231.0.2", zone: "lab.test", keyName: "k", algorithm: "hmac-sha256" },
    });
    assert.throws(() => agentSecrets(c, {}), /DJANGO_HA_TLS_PASSPHRASE = \(not set\)[\s\S]*DJANGO_HA_DNS_TSIG_SECRET = \(not set\)/);
    assert.deepEqual(agentSecrets(c, { DJANGO_HA_TLS_PASSPHRASE: "p", DJANGO_HA_DNS_TSIG_SECRET: "s" }), {
      passphrase: "p",
      tsigSecret: "s",
      digitalOceanToken: undefined,
    });
    assert.deepEqual(agentSecrets(parse({}), { DJANGO_HA_TLS_PASSPHRASE: "p" }), {
      passphrase: "p",
      tsigSecret: undefined,
      digitalOceanToken: undefined,
    });
  });
});
