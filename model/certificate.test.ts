import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { awsConfig, digitaloceanConfig, hostsConfig, TEST_SECRETS } from "../test/configs";
import { assertRefused } from "../test/config-errors";
import { runProgram } from "../components/plan/offlineEngine";
import { certificateSecretIssues, ConfigError, parseClusterSpec, specFromConfig } from ".";

interface Case {
  name: string;
  config: Record<string, unknown>;
  key: string;
  value: string;
  fix: RegExp;
}

const cert = (c: Record<string, unknown>) => ({ certificate: c });

const cases: Case[] = [
  {
    name: "unknown challenge",
    config: digitaloceanConfig(2, cert({ challenge: "tls-alpn-01" })),
    key: "django-ha:certificate.challenge",
    value: '"tls-alpn-01"',
    fix: /must be one of http-01, dns-01/,
  },
  {
    name: "wildcard with HTTP-01",
    config: digitaloceanConfig(2, cert({ names: ["*.example.com"] })),
    key: "django-ha:certificate.names[0]",
    value: '"*.example.com"',
    fix: /wildcard: only DNS-01 .*set django-ha:certificate.challenge to dns-01/,
  },
  {
    name: "the record's own name listed",
    config: awsConfig(2, cert({ names: ["example.com", "www.example.com"] })),
    key: "django-ha:certificate.names[1]",
    value: '"www.example.com"',
    fix: /record's own name .*always the first name/,
  },
  {
    name: "a name listed twice",
    config: hostsConfig(2, cert({ names: ["example.com", "shop.example.com", "example.com"] })),
    key: "django-ha:certificate.names[2]",
    value: '"example.com"',
    fix: /listed twice \(also django-ha:certificate.names\[0\]\)/,
  },
  {
    name: "a name outside the zone with DNS-01",
    config: hostsConfig(2, cert({ challenge: "dns-01", names: ["shop.example.net"] })),
    key: "django-ha:certificate.names[0]",
    value: '"shop.example.net"',
    fix: /outside the zone example.com/,
  },
  {
    name: "an upper-case name",
    config: digitaloceanConfig(2, cert({ names: ["Example.com"] })),
    key: "django-ha:certificate.names[0]",
    value: '"Example.com"',
    fix: /lower-case domain name/,
  },
  {
    name: "a name with a trailing dot",
    config: digitaloceanConfig(2, cert({ names: ["example.com."] })),
    key: "django-ha:certificate.names[0]",
    value: '"example.com."',
    fix: /no trailing dot/,
  },
  {
    name: "an IP address as a name",
    config: digitaloceanConfig(2, cert({ names: ["203.0.113.7"] })),
    key: "django-ha:certificate.names[0]",
    value: '"203.0.113.7"',
    fix: /no IP address/,
  },
  {
    name: "names not a list",
    config: digitaloceanConfig(2, cert({ names: "example.com" })),
    key: "django-ha:certificate.names",
    value: '"example.com"',
    fix: /must be a list, e.g. \[example.com\]/,
  },
  {
    name: "a profile Let's Encrypt does not have",
    config: digitaloceanConfig(2, cert({ profile: "sixday" })),
    key: "django-ha:certificate.profile",
    value: '"sixday"',
    fix: /not a Let's Encrypt profile; use one of classic, tlsserver, shortlived/,
  },
  {
    name: "a check interval below 5 s",
    config: awsConfig(2, cert({ checkEverySeconds: 1 })),
    key: "django-ha:certificate.checkEverySeconds",
    value: "1",
    fix: /at least 5 s/,
  },
  {
    name: "a check interval above a day",
    config: awsConfig(2, cert({ checkEverySeconds: 172800 })),
    key: "django-ha:certificate.checkEverySeconds",
    value: "172800",
    fix: /at most 86400 s/,
  },
  {
    name: "a check interval as text",
    config: awsConfig(2, cert({ checkEverySeconds: "five minutes" })),
    key: "django-ha:certificate.checkEverySeconds",
    value: '"five minutes"',
    fix: /must be a number: write 300/,
  },
  {
    name: "backoff cap below its base",
    config: hostsConfig(2, cert({ backoff: { baseSeconds: 600, capSeconds: 60 } })),
    key: "django-ha:certificate.backoff.capSeconds",
    value: "60",
    fix: /below backoff.baseSeconds \(600\).*at least 600/,
  },
  {
    name: "backoff with an unknown key",
    config: hostsConfig(2, cert({ backoff: { base: 5 } })),
    key: "django-ha:certificate.backoff.base",
    value: "5",
    fix: /not a known key/,
  },
  {
    name: "an unknown certificate key",
    config: digitaloceanConfig(2, cert({ email: "ops@shop.io" })),
    key: "django-ha:certificate.email",
    value: '"ops@shop.io"',
    fix: /not a known key/,
  },
  {
    name: "a TSIG key name on DigitalOcean",
    config: digitaloceanConfig(2, cert({ challenge: "dns-01", dnsKeyName: "acme" })),
    key: "django-ha:certificate.dnsKeyName",
    value: '"acme"',
    fix: /only for provider hosts .*django-ha:acmeDnsToken/,
  },
  {
    name: "a TSIG key name on AWS",
    config: awsConfig(2, cert({ dnsKeyName: "acme" })),
    key: "django-ha:certificate.dnsKeyName",
    value: '"acme"',
    fix: /instance role may change only _acme-challenge TXT records/,
  },
];

describe("django-ha:certificate: bad values are refused naming key, value and fix", () => {
  for (const c of cases) {
    it(c.name, () => assertRefused(c.config, c));
  }

  it("reports certificate problems together with the other keys' problems", () => {
    try {
      parseClusterSpec(
        digitaloceanConfig(2, { ttl: 10, ...cert({ names: ["*.example.com"], backoff: { baseSeconds: 10, capSeconds: 5 } }) }),
      );
      assert.fail("no ConfigError");
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.issues.map((i) => i.key).sort(), [
        "django-ha:certificate.backoff.capSeconds",
        "django-ha:certificate.names[0]",
        "django-ha:ttl",
      ]);
    }
  });

  it("an invalid certificate registers no resource in the program", async () => {
    const run = await runProgram(digitaloceanConfig(2, cert({ names: ["*.example.com"] })), { secrets: TEST_SECRETS });
    assert.ok(run.error instanceof ConfigError, String(run.error));
    assert.equal(run.resources.length, 0);
  });
});

describe("django-ha:certificate: valid configs and defaults", () => {
  it("defaults: HTTP-01, the record name alone, every 300 s, backoff 300 s doubling to 6 h", () => {
    assert.deepEqual(parseClusterSpec(digitaloceanConfig(2)).certificate, {
      challenge: "http-01",
      names: ["www.example.com"],
      checkEverySeconds: 300,
      backoff: { baseSeconds: 300, capSeconds: 21600 },
    });
  });

  it("the record name first, then the extra names; a wildcard and the apex with DNS-01", () => {
    const spec = parseClusterSpec(
      hostsConfig(
        2,
        cert({ challenge: "dns-01", names: ["example.com", "*.example.com"], profile: "shortlived", dnsKeyName: "shop-acme" }),
      ),
    );
    assert.deepEqual(spec.certificate, {
      challenge: "dns-01",
      names: ["www.example.com", "example.com", "*.example.com"],
      profile: "shortlived",
      checkEverySeconds: 300,
      backoff: { baseSeconds: 300, capSeconds: 21600 },
      dnsKeyName: "shop-acme",
    });
  });

  it("the apex record: its name is the domain", () => {
    assert.deepEqual(parseClusterSpec(awsConfig(2, { recordName: "@", ...cert({ names: ["www.example.com"] }) })).certificate.names, [
      "example.com",
      "www.example.com",
    ]);
  });

  it("a private directory (pebble) may name its own profiles", () => {
    const spec = parseClusterSpec(
      hostsConfig(2, { acmeEmail: "ops@lab.test", acmeDirectory: "https://10.231.0.3:14000/dir", ...cert({ profile: "default" }) }),
    );
    assert.equal(spec.certificate.profile, "default");
  });

  it("HTTP-01 names may be outside the domain (they only have to reach the children)", () => {
    assert.deepEqual(parseClusterSpec(digitaloceanConfig(2, cert({ names: ["shop.example.net"] }))).certificate.names, [
      "www.example.com",
      "shop.example.net",
    ]);
  });
});

describe("DNS-01 secrets of a running Pulumi program", () => {
  const full = (config: Record<string, unknown>, secrets: Record<string, string> = {}) =>
    Object.fromEntries([...Object.entries(config), ...Object.entries(secrets)].map(([k, v]): [string, unknown] => [`django-ha:${k}`, v]));

  it("digitalocean + dns-01 needs a domain-scoped token in django-ha:acmeDnsToken", () => {
    const issues = certificateSecretIssues(full(digitaloceanConfig(2, cert({ challenge: "dns-01" }))), "prod");
    assert.equal(issues.length, 1);
    assert.equal(issues[0].key, "django-ha:acmeDnsToken");
    assert.match(issues[0].fix, /scoped to domain read\/write only .*pulumi config set --secret --stack prod django-ha:acmeDnsToken/);
    assert.deepEqual(
      certificateSecretIssues(full(digitaloceanConfig(2, cert({ challenge: "dns-01" })), { acmeDnsToken: "t" }), "prod"),
      [],
    );
  });

  it("hosts + dns-01 with a narrower key needs its secret; without one the record's key is used", () => {
    const narrow = certificateSecretIssues(full(hostsConfig(2, cert({ challenge: "dns-01", dnsKeyName: "shop-acme" }))), "prod");
    assert.deepEqual(
      narrow.map((i) => i.key),
      ["django-ha:acmeTsigSecret"],
    );
    assert.deepEqual(
      certificateSecretIssues({ "django-ha:provider": "hosts", "django-ha:certificate": { challenge: "dns-01" } }, "prod"),
      [],
    );
  });

  it("HTTP-01 and AWS (instance role) need no DNS secret", () => {
    assert.deepEqual(
      certificateSecretIssues({ "django-ha:provider": "digitalocean", "django-ha:certificate": { challenge: "http-01" } }, "p"),
      [],
    );
    assert.deepEqual(certificateSecretIssues({ "django-ha:provider": "aws", "django-ha:certificate": { challenge: "dns-01" } }, "p"), []);
  });

  it("the program refuses a missing token with the config's other problems, and a token in plain text", () => {
    const config = {
      ...full(digitaloceanConfig(2, { ttl: 10, ...cert({ challenge: "dns-01" }) })),
      "django-ha:healthDnsToken": "dop_v1_health",
    };
    assert.throws(
      () => specFromConfig(config, { source: "stack prod", stack: "prod", isSecret: () => true, program: true }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(e.issues.map((i) => i.key).sort(), ["django-ha:acmeDnsToken", "django-ha:ttl"]);
        return true;
      },
    );
    assert.throws(
      () =>
        specFromConfig(
          { ...config, "django-ha:ttl": "30", "django-ha:acmeDnsToken": "dop_v1_plain" },
          { source: "f", stack: "prod", isSecret: () => false },
        ),
      /acmeDnsToken = \(a value in plain text, not shown\)/,
    );
  });
});
