import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SERVICE_PORTS } from "./ports";
import { awsConfig, digitaloceanConfig, hostsConfig, TEST_SECRETS } from "../test/configs";
import { assertRefused } from "../test/config-errors";
import { runProgram } from "../components/plan/offlineEngine";
import { ConfigError, parseClusterSpec } from ".";

interface InvalidCase {
  name: string;
  config: Record<string, unknown>;
  /** The key the message must name. */
  key: string;
  /** The bad value as the message shows it (JSON), or "(not set)". */
  value: string;
  /** A fragment of the fix the message must give. */
  fix: RegExp;
}

const without = (config: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(config).filter(([k]) => k !== key));
type HostsPatch = { databases: Record<string, unknown>[]; children: Record<string, unknown>[]; worker: Record<string, unknown> } & Record<
  string,
  unknown
>;
const hosts = (patch: (h: HostsPatch) => void) => {
  const c = hostsConfig(2);
  const h = structuredClone(c.hosts) as HostsPatch;
  patch(h);
  return { ...c, hosts: h };
};

const cases: InvalidCase[] = [
  {
    name: "TTL below DigitalOcean's minimum",
    config: digitaloceanConfig(2, { ttl: 10 }),
    key: "django-ha:ttl",
    value: "10",
    fix: /below digitalocean's minimum of 30 s; set it to 30/,
  },
  {
    name: "TTL not a whole number",
    config: digitaloceanConfig(2, { ttl: 30.5 }),
    key: "django-ha:ttl",
    value: "30.5",
    fix: /whole number of seconds/,
  },
  { name: "TTL too high for failover", config: awsConfig(2, { ttl: 86400 }), key: "django-ha:ttl", value: "86400", fix: /at most 3600 s/ },
  { name: "zero children", config: digitaloceanConfig(0, { childCount: 0 }), key: "django-ha:childCount", value: "0", fix: /at least 1/ },
  { name: "too many children", config: awsConfig(501), key: "django-ha:childCount", value: "501", fix: /at most 500/ },
  {
    name: "unknown DigitalOcean region",
    config: digitaloceanConfig(2, { region: "mars1" }),
    key: "django-ha:region",
    value: '"mars1"',
    fix: /not a DigitalOcean region; use one of .*nyc3/,
  },
  {
    name: "unknown AWS region",
    config: awsConfig(2, { region: "eu-north-9", zones: undefined }),
    key: "django-ha:region",
    value: '"eu-north-9"',
    fix: /not an AWS region this project knows; use one of .*eu-west-1/,
  },
  {
    name: "missing region",
    config: without(digitaloceanConfig(2), "region"),
    key: "django-ha:region",
    value: "(not set)",
    fix: /is required; one of/,
  },
  {
    name: "unknown DigitalOcean size",
    config: digitaloceanConfig(2, { sizes: { child: "s-64vcpu-1tb" } }),
    key: "django-ha:sizes.child",
    value: '"s-64vcpu-1tb"',
    fix: /not a digitalocean size .*s-1vcpu-2gb/,
  },
  {
    name: "unknown AWS size",
    config: awsConfig(2, { sizes: { db: "t9.huge" } }),
    key: "django-ha:sizes.db",
    value: '"t9.huge"',
    fix: /not a aws size .*t3.medium/,
  },
  {
    name: "unknown size kind",
    config: awsConfig(2, { sizes: { database: "t3.small" } }),
    key: "django-ha:sizes.database",
    value: '"t3.small"',
    fix: /not a known key/,
  },
  {
    name: "old per-role size sizes.parent",
    config: awsConfig(2, { sizes: { parent: "t3.large" } }),
    key: "django-ha:sizes.parent",
    value: '"t3.large"',
    fix: /old form: both database machines have one size, django-ha:sizes.db .*write sizes: \{ db: "t3.large" \}/,
  },
  {
    name: "old per-role size sizes.standby",
    config: digitaloceanConfig(2, { sizes: { standby: "s-2vcpu-4gb" } }),
    key: "django-ha:sizes.standby",
    value: '"s-2vcpu-4gb"',
    fix: /write sizes: \{ db: "s-2vcpu-4gb" \}/,
  },
  {
    name: "old hosts.parent and hosts.standby",
    config: hosts((h) => {
      h.parent = h.databases[0];
      h.standby = h.databases[1];
      delete (h as Partial<HostsPatch>).databases;
    }),
    key: "django-ha:hosts.parent",
    value: '{"address":"198.51.100.11","privateAddress":"10.0.0.11","zone":"a"}',
    fix: /old form: .*django-ha:hosts.databases \(exactly two entries.*django-ha:primary.*write django-ha:hosts: \{ databases: \[ \{"address":"198.51.100.11",.*\}, \{"address":"198.51.100.12",/,
  },
  {
    name: "old hosts.standby beside databases",
    config: hosts((h) => {
      h.standby = { address: "198.51.100.99" };
    }),
    key: "django-ha:hosts.standby",
    value: '{"address":"198.51.100.99"}',
    fix: /old form beside django-ha:hosts.databases, which lists the two database machines; remove hosts.standby/,
  },
  {
    name: "one database machine",
    config: hosts((h) => {
      h.databases = h.databases.slice(0, 1);
    }),
    key: "django-ha:hosts.databases",
    value: '[{"address":"198.51.100.11","privateAddress":"10.0.0.11","zone":"a"}]',
    fix: /exactly two database machines/,
  },
  {
    name: "three database machines",
    config: hosts((h) => {
      h.databases.push({ address: "198.51.100.14" });
    }),
    key: "django-ha:hosts.databases",
    value: /* the three entries */ JSON.stringify([
      { address: "198.51.100.11", privateAddress: "10.0.0.11", zone: "a" },
      { address: "198.51.100.12", privateAddress: "10.0.0.12", zone: "b" },
      { address: "198.51.100.14" },
    ]),
    fix: /exactly two database machines/,
  },
  {
    name: "primary that is not a database machine (cloud)",
    config: digitaloceanConfig(2, { primary: "shop-child-1" }),
    key: "django-ha:primary",
    value: '"shop-child-1"',
    fix: /is not a database machine of this cluster; set it to "shop-db-1" or "shop-db-2"/,
  },
  {
    name: "primary under an old name",
    config: awsConfig(2, { primary: "shop-parent" }),
    key: "django-ha:primary",
    value: '"shop-parent"',
    fix: /set it to "shop-db-1" or "shop-db-2"/,
  },
  {
    name: "primary that is not a database machine (hosts, named machines)",
    config: {
      ...hosts((h) => {
        h.databases[0].name = "pg-a";
        h.databases[1].name = "pg-b";
        h.worker.name = "jobs";
      }),
      primary: "jobs",
    },
    key: "django-ha:primary",
    value: '"jobs"',
    fix: /set it to "pg-a" or "pg-b" \(the one that is the primary now\)/,
  },
  { name: "primary not text", config: digitaloceanConfig(2, { primary: 2 }), key: "django-ha:primary", value: "2", fix: /must be text/ },
  {
    name: "SSH open to the world (IPv4)",
    config: digitaloceanConfig(2, { adminCidrs: ["0.0.0.0/0"] }),
    key: "django-ha:adminCidrs[0]",
    value: '"0.0.0.0/0"',
    fix: /allowSshFromAnywhere/,
  },
  {
    name: "SSH open to the world (IPv6)",
    config: awsConfig(2, { adminCidrs: ["203.0.113.7/32", "::/0"] }),
    key: "django-ha:adminCidrs[1]",
    value: '"::/0"',
    fix: /opens SSH to the whole Internet/,
  },
  {
    name: "no admin CIDRs",
    config: hostsConfig(2, { adminCidrs: [] }),
    key: "django-ha:adminCidrs",
    value: "[]",
    fix: /is required: the CIDRs SSH is allowed from/,
  },
  {
    name: "admin address without a prefix length",
    config: digitaloceanConfig(2, { adminCidrs: ["203.0.113.7"] }),
    key: "django-ha:adminCidrs[0]",
    value: '"203.0.113.7"',
    fix: /has no prefix length; write 203.0.113.7\/32 for this one address/,
  },
  {
    name: "AWS database machines in the same zone (one zone given)",
    config: awsConfig(2, { zones: ["eu-west-1a"] }),
    key: "django-ha:zones",
    value: '["eu-west-1a"]',
    fix: /at least two availability zones so the two database machines never share one/,
  },
  {
    name: "AWS zone listed twice",
    config: awsConfig(2, { zones: ["eu-west-1a", "eu-west-1a"] }),
    key: "django-ha:zones",
    value: '["eu-west-1a","eu-west-1a"]',
    fix: /lists a zone twice/,
  },
  {
    name: "AWS zone outside the region",
    config: awsConfig(2, { zones: ["eu-west-1a", "us-east-1b"] }),
    key: "django-ha:zones[1]",
    value: '"us-east-1b"',
    fix: /not an availability zone of eu-west-1/,
  },
  {
    name: "zones on DigitalOcean",
    config: digitaloceanConfig(2, { zones: ["nyc3", "nyc1"] }),
    key: "django-ha:zones",
    value: '["nyc3","nyc1"]',
    fix: /no availability zones inside a region/,
  },
  {
    name: "hosts database machines in the same zone",
    config: hosts((h) => (h.databases[1].zone = "a")),
    key: "django-ha:hosts.databases[1].zone",
    value: '"a"',
    fix: /is the zone of django-ha:hosts.databases\[0\] too; put the two database machines in different zones \(e.g. b\)/,
  },
  {
    name: "hosts machines sharing an address",
    config: hosts((h) => (h.worker.privateAddress = "10.0.0.11")),
    key: "django-ha:hosts.worker.privateAddress",
    value: '"10.0.0.11"',
    fix: /also used by django-ha:hosts.databases\[0\]/,
  },
  {
    name: "hosts machines sharing a public address",
    config: hosts((h) => (h.worker.address = "198.51.100.11")),
    key: "django-ha:hosts.worker.address",
    value: '"198.51.100.11"',
    fix: /is also the address of django-ha:hosts.databases\[0\]; every machine needs its own address/,
  },
  {
    name: "hosts machines sharing a public IPv6 address spelled differently",
    config: hosts((h) => {
      h.databases[0].address = "2001:db8::11";
      h.worker.address = "2001:DB8:0::11";
    }),
    key: "django-ha:hosts.worker.address",
    value: '"2001:DB8:0::11"',
    fix: /is also the address of django-ha:hosts.databases\[0\]/,
  },
  {
    name: "SSH on the PostgreSQL port",
    config: digitaloceanConfig(2, { sshPort: 5432 }),
    key: "django-ha:sshPort",
    value: "5432",
    fix: /is the port of PostgreSQL on the database machines; pick another/,
  },
  {
    name: "SSH on the HTTPS port",
    config: awsConfig(2, { sshPort: 443 }),
    key: "django-ha:sshPort",
    value: "443",
    fix: /is the port of nginx \(HTTPS\)/,
  },
  { name: "SSH on the mountd port", config: hostsConfig(2, { sshPort: 20048 }), key: "django-ha:sshPort", value: "20048", fix: /mountd/ },
  {
    name: "DNS server on the Redis port",
    config: hostsConfig(2, { dns: { server: "198.51.100.53", tsigKeyName: "k", port: 6379 } }),
    key: "django-ha:dns.port",
    value: "6379",
    fix: /is the port of Redis .*RFC 2136 servers listen on 53/,
  },
  {
    name: "DNS server on the rpcbind port",
    config: hostsConfig(2, { dns: { server: "198.51.100.53", tsigKeyName: "k", port: 111 } }),
    key: "django-ha:dns.port",
    value: "111",
    fix: /rpcbind/,
  },
  {
    name: "DNS server on the SSH port",
    config: hostsConfig(2, { sshPort: 2222, dns: { server: "198.51.100.53", tsigKeyName: "k", port: 2222 } }),
    key: "django-ha:dns.port",
    value: "2222",
    fix: /is the port of SSH \(django-ha:sshPort\)/,
  },
  {
    name: "hosts address not an IP",
    config: hosts((h) => (h.databases[0].address = "db1.example.com")),
    key: "django-ha:hosts.databases[0].address",
    value: '"db1.example.com"',
    fix: /IPv4 or IPv6 address/,
  },
  {
    name: "hosts childCount disagreeing with the list",
    config: hostsConfig(2, { childCount: 3 }),
    key: "django-ha:childCount",
    value: "3",
    fix: /does not match the 2 entries/,
  },
  {
    name: "hosts without the DNS server",
    config: without(hostsConfig(2), "dns"),
    key: "django-ha:dns",
    value: "(not set)",
    fix: /RFC 2136 server/,
  },
  {
    name: "hosts DNS zone not holding the record",
    config: hostsConfig(2, { dns: { server: "198.51.100.53", tsigKeyName: "k", zone: "other.org" } }),
    key: "django-ha:dns.zone",
    value: '"other.org"',
    fix: /does not contain the record www.example.com/,
  },
  {
    name: "record name outside the domain",
    config: digitaloceanConfig(2, { recordName: "www.example.org" }),
    key: "django-ha:recordName",
    value: '"www.example.org"',
    fix: /outside the domain example.com/,
  },
  {
    name: "record name not a DNS label",
    config: awsConfig(2, { recordName: "web_site" }),
    key: "django-ha:recordName",
    value: '"web_site"',
    fix: /must be a DNS label/,
  },
  {
    name: "ACME email not an address",
    config: digitaloceanConfig(2, { acmeEmail: "ops-at-example.com" }),
    key: "django-ha:acmeEmail",
    value: '"ops-at-example.com"',
    fix: /must be one e-mail address such as ops@your-company.com/,
  },
  {
    name: "ACME email as a mailto: URI",
    config: digitaloceanConfig(2, { acmeEmail: "mailto:ops@shop.io" }),
    key: "django-ha:acmeEmail",
    value: '"mailto:ops@shop.io"',
    fix: /write the plain address, ops@shop\.io \(the ACME client adds mailto: itself\)/,
  },
  {
    name: "ACME email with a display name",
    config: awsConfig(2, { acmeEmail: "Ops <ops@shop.io>" }),
    key: "django-ha:acmeEmail",
    value: '"Ops <ops@shop.io>"',
    fix: /write the plain address, ops@shop\.io/,
  },
  {
    name: "ACME email at example.com (Let's Encrypt)",
    config: digitaloceanConfig(2, { acmeEmail: "ops@example.com" }),
    key: "django-ha:acmeEmail",
    value: '"ops@example.com"',
    fix: /at example\.com, which Let's Encrypt refuses/,
  },
  {
    name: "ACME email at example.org (staging)",
    config: awsConfig(2, { acmeEmail: "ops@Example.ORG", acmeDirectory: "letsencrypt-staging" }),
    key: "django-ha:acmeEmail",
    value: '"ops@Example.ORG"',
    fix: /at example\.org, which Let's Encrypt refuses/,
  },
  {
    name: "ACME email at a .test domain (Let's Encrypt URL)",
    config: hostsConfig(2, { acmeEmail: "ops@lab.test", acmeDirectory: "https://acme-v02.api.letsencrypt.org/directory" }),
    key: "django-ha:acmeEmail",
    value: '"ops@lab.test"',
    fix: /reserved or non-public domain \(\.test\)/,
  },
  {
    name: "ACME email at .local",
    config: digitaloceanConfig(2, { acmeEmail: "root@nas.local" }),
    key: "django-ha:acmeEmail",
    value: '"root@nas.local"',
    fix: /\(\.local\)/,
  },
  {
    name: "ACME email at .example",
    config: digitaloceanConfig(2, { acmeEmail: "ops@shop.example" }),
    key: "django-ha:acmeEmail",
    value: '"ops@shop.example"',
    fix: /\(\.example\)/,
  },
  {
    name: "ACME email at an IP literal",
    config: digitaloceanConfig(2, { acmeEmail: "ops@[203.0.113.7]" }),
    key: "django-ha:acmeEmail",
    value: '"ops@[203.0.113.7]"',
    fix: /IP address as its domain/,
  },
  {
    name: "ACME email at a single-label domain",
    config: digitaloceanConfig(2, { acmeEmail: "ops@localhost" }),
    key: "django-ha:acmeEmail",
    value: '"ops@localhost"',
    fix: /not a valid host name/,
  },
  {
    name: "TTL written as a word",
    config: digitaloceanConfig(2, { ttl: "thirty" }),
    key: "django-ha:ttl",
    value: '"thirty"',
    fix: /must be a number: write 30 \(no quotes\), not "thirty"/,
  },
  {
    name: "childCount quoted",
    config: awsConfig(0, { childCount: "three" }),
    key: "django-ha:childCount",
    value: '"three"',
    fix: /write 3 \(no quotes\), not "three"/,
  },
  {
    name: "volume size quoted inside a map",
    config: awsConfig(2, { volumes: { dbGb: "20" } }),
    key: "django-ha:volumes.dbGb",
    value: '"20"',
    fix: /write 20 \(no quotes\), not "20"/,
  },
  {
    name: "boolean written as yes",
    config: digitaloceanConfig(2, { allowSshFromAnywhere: "yes" }),
    key: "django-ha:allowSshFromAnywhere",
    value: '"yes"',
    fix: /must be true or false: write true \(no quotes\), not "yes"/,
  },
  {
    name: "list written as text",
    config: digitaloceanConfig(2, { adminCidrs: "203.0.113.7/32" }),
    key: "django-ha:adminCidrs",
    value: '"203.0.113.7/32"',
    fix: /must be a list, e\.g\. \["203\.0\.113\.7\/32"\]/,
  },
  {
    name: "ACME directory over plain HTTP",
    config: awsConfig(2, { acmeDirectory: "http://acme.example.com/dir" }),
    key: "django-ha:acmeDirectory",
    value: '"http://acme.example.com/dir"',
    fix: /https:\/\/ ACME directory URL/,
  },
  {
    name: "unknown key",
    config: digitaloceanConfig(2, { childcount: 3 }),
    key: "django-ha:childcount",
    value: "3",
    fix: /not a known key; remove it or check its spelling/,
  },
  {
    name: "unknown provider",
    config: digitaloceanConfig(2, { provider: "gcp" }),
    key: "django-ha:provider",
    value: '"gcp"',
    fix: /one of digitalocean, aws, hosts/,
  },
  {
    name: "missing domain",
    config: without(awsConfig(2), "domain"),
    key: "django-ha:domain",
    value: "(not set)",
    fix: /pulumi config set django-ha:domain/,
  },
  {
    name: "domain not lower-case",
    config: digitaloceanConfig(2, { domain: "Example.COM" }),
    key: "django-ha:domain",
    value: '"Example.COM"',
    fix: /lower-case domain name/,
  },
  {
    name: "cluster name not a DNS label",
    config: digitaloceanConfig(2, { clusterName: "My_Cluster" }),
    key: "django-ha:clusterName",
    value: '"My_Cluster"',
    fix: /must be a DNS label/,
  },
  {
    name: "no SSH key on a cloud target",
    config: digitaloceanConfig(2, { sshPublicKeys: [] }),
    key: "django-ha:sshPublicKeys",
    value: "[]",
    fix: /at least one OpenSSH public key/,
  },
  {
    name: "SSH key that is a private key",
    config: awsConfig(2, { sshPublicKeys: ["-----BEGIN OPENSSH PRIVATE KEY-----"] }),
    key: "django-ha:sshPublicKeys[0]",
    value: '"-----BEGIN OPENSSH PRIVATE KEY-----"',
    fix: /OpenSSH public key line/,
  },
  {
    name: "unknown replication policy",
    config: digitaloceanConfig(2, { syncReplication: "async" }),
    key: "django-ha:syncReplication",
    value: '"async"',
    fix: /one of strict, degrade-to-async/,
  },
  {
    name: "zero-sized DB volume",
    config: awsConfig(2, { volumes: { dbGb: 0 } }),
    key: "django-ha:volumes.dbGb",
    value: "0",
    fix: /at least 1 GB/,
  },
  {
    name: "Route 53 zone id on DigitalOcean",
    config: digitaloceanConfig(2, { hostedZoneId: "Z123EXAMPLE" }),
    key: "django-ha:hostedZoneId",
    value: '"Z123EXAMPLE"',
    fix: /only for aws/,
  },
  {
    name: "RFC 2136 server on a cloud target",
    config: awsConfig(2, { dns: { server: "198.51.100.53", tsigKeyName: "k" } }),
    key: "django-ha:dns",
    value: '{"server":"198.51.100.53","tsigKeyName":"k"}',
    fix: /only for provider hosts/,
  },
  {
    name: "sizes on the hosts target",
    config: hostsConfig(2, { sizes: { child: "s-1vcpu-2gb" } }),
    key: "django-ha:sizes",
    value: '{"child":"s-1vcpu-2gb"}',
    fix: /not used by the hosts target/,
  },
];

describe("parseClusterSpec refuses invalid configs, naming key, value and fix", () => {
  it("has at least 20 distinct cases", () => {
    assert.ok(cases.length >= 20);
    assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
    assert.equal(new Set(cases.map((c) => JSON.stringify(c.config))).size, cases.length);
  });

  for (const c of cases) {
    it(c.name, () => assertRefused(c.config, c));
  }
});

describe("an invalid config registers no resource in the program", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const run = await runProgram(c.config, { secrets: TEST_SECRETS });
      assert.ok(run.error instanceof ConfigError, String(run.error));
      assert.ok(run.error.message.includes(c.key), run.error.message);
      assert.equal(run.resources.length, 0);
    });
  }
});

describe("one ConfigError lists every problem", () => {
  const issuesOf = (config: Record<string, unknown>) => {
    try {
      parseClusterSpec(config);
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.issues.map((i) => `${i.key} = ${i.value}`);
    }
    assert.fail("no ConfigError");
  };

  it("reports cross-key problems (TTL minimum, region, SSH exposure) alongside schema problems", () => {
    assert.deepEqual(
      issuesOf(digitaloceanConfig(0, { childCount: 0, ttl: 10, region: "mars1", adminCidrs: ["0.0.0.0/0"], colour: "blue" })).sort(),
      [
        'django-ha:adminCidrs[0] = "0.0.0.0/0"',
        "django-ha:childCount = 0",
        'django-ha:colour = "blue"',
        'django-ha:region = "mars1"',
        "django-ha:ttl = 10",
      ],
    );
  });

  it("checks the other admin CIDRs when one entry is broken, and the address inside a mailto: URI", () => {
    assert.deepEqual(
      issuesOf(digitaloceanConfig(2, { adminCidrs: ["203.0.113.7/24", "0.0.0.0/00"], acmeEmail: "mailto:ops@example.com" })).sort(),
      [
        'django-ha:acmeEmail = "mailto:ops@example.com"',
        'django-ha:acmeEmail = "mailto:ops@example.com"',
        'django-ha:adminCidrs[0] = "203.0.113.7/24"',
        'django-ha:adminCidrs[1] = "0.0.0.0/00"',
      ],
    );
  });

  it("refuses the old database keys with only their own messages (the rest of the config is still checked in the new form)", () => {
    const old = hosts((h) => {
      h.parent = h.databases[0];
      h.standby = h.databases[1];
      delete (h as Partial<HostsPatch>).databases;
    });
    assert.deepEqual(
      issuesOf(old).map((i) => i.split(" = ")[0]),
      ["django-ha:hosts.parent", "django-ha:hosts.standby"],
    );
    assert.deepEqual(
      issuesOf({ ...old, ttl: 0 })
        .map((i) => i.split(" = ")[0])
        .sort(),
      ["django-ha:hosts.parent", "django-ha:hosts.standby", "django-ha:ttl"],
    );
    assert.deepEqual(
      issuesOf(awsConfig(2, { sizes: { parent: "t3.large", standby: "t3.large" } })).map((i) => i.split(" = ")[0]),
      ["django-ha:sizes.parent", "django-ha:sizes.standby"],
    );
  });

  it("does not report findings that follow from a broken key", () => {
    assert.deepEqual(issuesOf(digitaloceanConfig(2, { domain: "Example.COM", recordName: "www.example.com" })), [
      'django-ha:domain = "Example.COM"',
    ]);
    assert.deepEqual(issuesOf(awsConfig(2, { region: 42, zones: ["eu-west-1a", "eu-west-1b"] })), ["django-ha:region = 42"]);
    assert.deepEqual(issuesOf(digitaloceanConfig(2, { adminCidrs: ["0.0.0.0/0"], allowSshFromAnywhere: "yes" })), [
      'django-ha:allowSshFromAnywhere = "yes"',
    ]);
    assert.deepEqual(issuesOf(digitaloceanConfig(2, { provider: "gcp", ttl: 5 })), ['django-ha:provider = "gcp"']);
  });
});

describe("valid configs", () => {
  it("apply the documented defaults", () => {
    const spec = parseClusterSpec(digitaloceanConfig(0));
    assert.equal(spec.childCount, 2);
    assert.equal(spec.ttl, 30);
    assert.deepEqual(spec.sizes, { child: "s-1vcpu-2gb", db: "s-2vcpu-4gb", worker: "s-2vcpu-4gb" });
    assert.equal(spec.primary, "shop-db-1");
    assert.deepEqual(spec.volumes, { dbGb: 20, shareGb: 50 });
    assert.equal(spec.syncReplication, "strict");
    assert.deepEqual(spec.ssh, { user: "root", port: 22 });
    assert.equal(spec.acme.directoryUrl, "https://acme-v02.api.letsencrypt.org/directory");
    assert.deepEqual(parseClusterSpec(awsConfig(2, { zones: undefined })).zones, ["eu-west-1a", "eu-west-1b"]);
  });

  it("name the primary: the first database machine by default, the one django-ha:primary names otherwise", () => {
    assert.equal(parseClusterSpec(awsConfig(2)).primary, "shop-db-1");
    assert.equal(parseClusterSpec(awsConfig(2, { primary: "shop-db-2" })).primary, "shop-db-2");
    const named = hosts((h) => {
      h.databases[0].name = "pg-a";
      h.databases[1].name = "pg-b";
    });
    assert.equal(parseClusterSpec(named).primary, "pg-a");
    assert.equal(parseClusterSpec({ ...named, primary: "pg-b" }).primary, "pg-b");
    const hostsSpec = parseClusterSpec(hostsConfig(2));
    assert.ok(hostsSpec.provider === "hosts");
    assert.deepEqual(
      hostsSpec.hosts.databases.map((d) => d.name),
      ["shop-db-1", "shop-db-2"],
    );
  });

  it("accept 0.0.0.0/0 for SSH only with the explicit override", () => {
    assert.deepEqual(parseClusterSpec(digitaloceanConfig(2, { adminCidrs: ["0.0.0.0/0"], allowSshFromAnywhere: true })).adminCidrs, [
      "0.0.0.0/0",
    ]);
  });

  it("normalise record names given as FQDN or apex", () => {
    assert.equal(parseClusterSpec(digitaloceanConfig(2, { recordName: "shop.example.com." })).recordName, "shop");
    const apex = parseClusterSpec(digitaloceanConfig(2, { recordName: "example.com" }));
    assert.deepEqual([apex.recordName, apex.recordFqdn], ["@", "example.com"]);
  });

  it("keep a private ACME directory's own contact domain (the lab's pebble) and accept real ones for Let's Encrypt", () => {
    assert.equal(
      parseClusterSpec(hostsConfig(2, { acmeEmail: "ops@lab.test", acmeDirectory: "https://10.231.0.3:14000/dir" })).acme.email,
      "ops@lab.test",
    );
    for (const email of ["ops@your-company.com", "first.last+acme@sub.example.co.uk", "ops@xn--bcher-kva.de"])
      assert.equal(parseClusterSpec(digitaloceanConfig(2, { acmeEmail: email })).acme.email, email);
    assert.throws(() => parseClusterSpec(hostsConfig(2, { acmeEmail: "ops@lab.test" })), /reserved or non-public domain \(\.test\)/);
  });

  it("do not mutate the caller's config", () => {
    const config = awsConfig(3);
    const before = JSON.stringify(config);
    parseClusterSpec(config);
    assert.equal(JSON.stringify(config), before);
  });
});

describe("ports", () => {
  const refusedFor = (config: Record<string, unknown>, key: string) => {
    try {
      parseClusterSpec(config);
      return false;
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.issues.some((i) => i.key === key);
    }
  };
  const tcpServicePorts = SERVICE_PORTS.filter((p) => p.protocol === "tcp").map((p) => p.port);

  it("refuses exactly the SSH ports a cluster service uses (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(...tcpServicePorts)), (port) => {
        assert.equal(refusedFor(digitaloceanConfig(2, { sshPort: port }), "django-ha:sshPort"), tcpServicePorts.includes(port));
      }),
      { numRuns: 60 },
    );
  });

  it("refuses exactly the DNS ports a cluster service or SSH uses (property)", () => {
    const used = [...SERVICE_PORTS.map((p) => p.port), 2222];
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(...used)), (port) => {
        const config = hostsConfig(2, { sshPort: 2222, dns: { server: "198.51.100.53", tsigKeyName: "k", port } });
        assert.equal(refusedFor(config, "django-ha:dns.port"), used.includes(port));
      }),
      { numRuns: 60 },
    );
  });
});
