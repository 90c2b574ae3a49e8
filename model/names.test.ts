import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { awsConfig, digitaloceanConfig, TEST_SECRETS } from "../test/configs";
import { runProgram } from "../components/plan/offlineEngine";
import { ConfigError, digitalOceanNames, nameScope, parseClusterSpec, planTags, stackLabel, tagResourceSuffix } from ".";

const issuesOf = (config: Record<string, unknown>, stack = "production"): string[] => {
  try {
    parseClusterSpec(config, undefined, { stack });
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map((i) => `${i.key} = ${i.value}: ${i.fix}`);
  }
};

describe("derived names against the providers' rules", () => {
  const refused: [string, Record<string, unknown>, string, RegExp][] = [
    [
      "a DigitalOcean cluster name starting with a digit (volume names must start with a letter)",
      digitaloceanConfig(2, { clusterName: "7shop" }),
      "production",
      /django-ha:clusterName = "7shop": gives the DigitalOcean volume name "7shop-production-db-1-db" is not allowed: .*starting with a letter/,
    ],
    [
      "a cluster name too long for a hostname",
      digitaloceanConfig(2, { clusterName: "a".repeat(59) }),
      "production",
      /gives the DigitalOcean droplet name \(the hostname\) "a{59}-db-1" is 64 characters; .* allows 63; use a shorter django-ha:clusterName$/,
    ],
    [
      "a stack name that makes volume names too long",
      digitaloceanConfig(2, { clusterName: "shop" }),
      "production-eu-west-customer-facing-primary-2026-x",
      /gives the DigitalOcean volume name ".*" is \d+ characters; DigitalOcean API volumes_create allows 64; use a shorter django-ha:clusterName \(or a shorter stack name than "production-eu-west-customer-facing-primary-2026-x"\)/,
    ],
    [
      "an AWS cluster name that makes security group names start with sg-",
      awsConfig(2, { clusterName: "sg-shop" }),
      "production",
      /gives the AWS security group name "sg-shop-aws-sg-admin-0000000" is not allowed: .*not starting with sg-/,
    ],
    [
      "a hostname too long on AWS",
      awsConfig(2, { clusterName: "b".repeat(60) }),
      "production",
      /node name \(the machine's hostname\) "b{60}-db-1" is 65 characters/,
    ],
    [
      "a DigitalOcean tag with a character DigitalOcean refuses",
      digitaloceanConfig(2, { tags: { team: "web.ops" } }),
      "production",
      /django-ha:tags\.team = "web\.ops": gives the DigitalOcean tag "team:web\.ops", which is not allowed: .*write it as "team:web-ops"/,
    ],
    [
      "two tags that are one tag to DigitalOcean (case)",
      digitaloceanConfig(2, { tags: { env: "prod", Env: "prod" } }),
      "production",
      /django-ha:tags\.Env = "prod": gives the tag "Env:prod", which DigitalOcean takes for the same tag as "env:prod"/,
    ],
    [
      "two tags with one Pulumi resource name",
      digitaloceanConfig(2, { tags: { env: "prod", "env-prod": "" } }),
      "production",
      /django-ha:tags\.env-prod = "": gives the tag "env-prod", whose Pulumi resource name \(…-tag-env-prod\) is that of "env:prod"/,
    ],
    [
      "a user tag that is a role tag (would put every droplet behind the data firewall)",
      digitaloceanConfig(2, { tags: { "shop-production-parent": "" } }),
      "production",
      /gives the tag "shop-production-parent", which is the parent role tag \(firewalls target it\)/,
    ],
    [
      "a user tag that is the database machines' tag (the data firewall targets it)",
      digitaloceanConfig(2, { tags: { "shop-production-db": "" } }),
      "production",
      /gives the tag "shop-production-db", which is the database machines' tag \(firewalls target it\)/,
    ],
    [
      "a user tag whose resource name is the cluster tag's",
      digitaloceanConfig(2, { tags: { "django-ha": "shop-production" } }),
      "production",
      /whose Pulumi resource name \(…-tag-django-ha-shop-production\) is that of "django-ha-shop-production"/,
    ],
    [
      "an AWS tag with the reserved aws: prefix",
      awsConfig(2, { tags: { "aws:createdBy": "me" } }),
      "production",
      /django-ha:tags\.aws:createdBy = "me": uses the prefix "aws:", which AWS reserves/,
    ],
    [
      "an AWS tag with the reserved prefix in capitals",
      awsConfig(2, { tags: { "AWS:team": "x" } }),
      "production",
      /uses the prefix "aws:"/,
    ],
    [
      "the AWS Name tag",
      awsConfig(2, { tags: { Name: "shop" } }),
      "production",
      /django-ha:tags\.Name = "shop": is a tag django-ha sets itself \(each resource's name\)/,
    ],
    ["django-ha's own AWS tag", awsConfig(2, { tags: { "django-ha:stack": "x" } }), "production", /is a tag django-ha sets itself/],
    [
      "an AWS tag value with a character AWS refuses",
      awsConfig(2, { tags: { Owner: "ops#1" } }),
      "production",
      /django-ha:tags\.Owner = "ops#1": has a value that is not valid: AWS tag value "ops#1" is not allowed/,
    ],
    [
      "an AWS tag key longer than 128",
      awsConfig(2, { tags: { ["k".repeat(129)]: "v" } }),
      "production",
      /AWS tag key "k{129}" is 129 characters; .* allows 128/,
    ],
    [
      "more AWS tags than a Route 53 health check takes",
      awsConfig(2, { tags: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, "v"])) }),
      "production",
      /django-ha:tags = .*: has 8 tags; Route 53 allows 10 per health check and django-ha sets 3 .*keep at most 7/,
    ],
  ];
  for (const [what, config, stack, message] of refused) {
    it(`refuses ${what}`, () => {
      const found = issuesOf(config, stack);
      assert.ok(
        found.some((i) => message.test(i)),
        found.join("\n") || "(accepted)",
      );
    });
  }

  it("accepts ordinary AWS tags such as Environment, Cost Center and owner@team", () => {
    assert.deepEqual(
      issuesOf(awsConfig(2, { tags: { Environment: "Production", "Cost Center": "12/34", owner: "ops@your-company.com", empty: "" } })),
      [],
    );
  });

  it("accepts DigitalOcean tags of letters, digits, ':', '-' and '_'", () => {
    assert.deepEqual(issuesOf(digitaloceanConfig(2, { tags: { env: "production", Team_A: "web-ops", solo: "" } })), []);
  });

  it("blames the cluster name once per rule, not once per derived name", () => {
    assert.equal(issuesOf(digitaloceanConfig(4, { clusterName: "7shop" })).filter((i) => /volume name/.test(i)).length, 1);
  });
});

describe("stack labels", () => {
  it("keeps a lower-case stack name and tells apart names that normalise alike", () => {
    assert.equal(stackLabel("production"), "production");
    assert.match(stackLabel("prod_eu"), /^prod-eu-[0-9a-f]{6}$/);
    assert.notEqual(stackLabel("prod_eu"), stackLabel("prod.eu"));
    assert.notEqual(stackLabel("Prod-EU"), stackLabel("prod-eu"));
  });

  it("is a DNS-label-safe, one-to-one label for every Pulumi stack name (property)", () => {
    const stackName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,40}$/);
    fc.assert(
      fc.property(stackName, stackName, (a, b) => {
        assert.match(stackLabel(a), /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
        if (a !== b) assert.notEqual(stackLabel(a), stackLabel(b));
      }),
    );
  });
});

describe("no two derived names collide (property)", () => {
  it("accepted DigitalOcean tag sets give distinct tags and distinct Pulumi resource names", () => {
    const key = fc.stringMatching(/^[A-Za-z0-9:_.-]{1,12}$/);
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.stringMatching(/^[A-Za-z0-9_.-]{0,8}$/), { maxKeys: 6 }),
        fc.constantFrom("production", "staging", "prod_eu"),
        (tags, stack) => {
          const config = digitaloceanConfig(2, { tags });
          if (issuesOf(config, stack).length) return;
          const spec = parseClusterSpec(config, undefined, { stack });
          const t = planTags(spec);
          const all = [t.cluster, ...Object.values(t.roles), ...t.user];
          assert.equal(new Set(all.map((n) => n.toLowerCase())).size, all.length, `DigitalOcean tags collide: ${all}`);
          assert.equal(new Set(all.map(tagResourceSuffix)).size, all.length, `Pulumi names collide: ${all}`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("two stacks of one cluster never share a scoped name", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/), fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/), (a, b) => {
        fc.pre(a !== b);
        const spec = (stack: string) => ({ clusterName: "shop", stack, tags: {} });
        assert.notEqual(nameScope(spec(a)), nameScope(spec(b)));
        assert.notEqual(digitalOceanNames.volume(spec(a), "db-1", "db"), digitalOceanNames.volume(spec(b), "db-1", "db"));
        assert.notEqual(planTags(spec(a)).roles.parent, planTags(spec(b)).roles.parent);
      }),
    );
  });
});

describe("two stacks with the same clusterName in one account (pulumi up under mocks)", () => {
  type R = { type: string; inputs: Record<string, unknown> };
  const ofType = (rs: R[], type: string) => rs.filter((r) => r.type === type);

  it("DigitalOcean: production's firewalls never target or admit staging's droplets; VPC and volume names differ", async () => {
    const prod = await runProgram(digitaloceanConfig(2, { tags: { env: "shared" } }), { stack: "production", secrets: TEST_SECRETS });
    const staging = await runProgram(digitaloceanConfig(2, { tags: { env: "shared" } }), { stack: "staging", secrets: TEST_SECRETS });
    assert.equal(prod.error, undefined, String(prod.error));
    assert.equal(staging.error, undefined, String(staging.error));
    const dropletTags = (run: { resources: R[] }) =>
      new Set(ofType(run.resources, "digitalocean:index/droplet:Droplet").flatMap((d) => d.inputs.tags as string[]));
    for (const [a, b] of [
      [prod, staging],
      [staging, prod],
    ]) {
      const other = dropletTags(b);
      for (const fw of ofType(a.resources, "digitalocean:index/firewall:Firewall")) {
        const targets = fw.inputs.tags as string[];
        const sources = ((fw.inputs.inboundRules as { sourceTags?: string[] }[]) ?? []).flatMap((r) => r.sourceTags ?? []);
        assert.deepEqual(
          [...targets, ...sources].filter((t) => other.has(t)),
          [],
          `${fw.inputs.name} reaches the other stack's droplets`,
        );
      }
    }
    const names = (run: { resources: R[] }, type: string) => ofType(run.resources, type).map((r) => String(r.inputs.name));
    for (const type of ["digitalocean:index/vpc:Vpc", "digitalocean:index/volume:Volume", "digitalocean:index/firewall:Firewall"]) {
      const p = names(prod, type);
      assert.ok(p.length > 0, type);
      assert.deepEqual(
        p.filter((n) => names(staging, type).includes(n)),
        [],
        `${type} names shared`,
      );
    }
  });

  it("AWS: VPC, subnet, security group, volume and health check names differ; every resource says its stack", async () => {
    const prod = await runProgram(awsConfig(2), { stack: "production" });
    const staging = await runProgram(awsConfig(2), { stack: "staging" });
    const nameTags = (run: { resources: R[] }, type: string) =>
      ofType(run.resources, type).map((r) => (r.inputs.tags as Record<string, string>).Name);
    for (const type of [
      "aws:ec2/vpc:Vpc",
      "aws:ec2/subnet:Subnet",
      "aws:ec2/securityGroup:SecurityGroup",
      "aws:ebs/volume:Volume",
      "aws:route53/healthCheck:HealthCheck",
    ]) {
      const p = nameTags(prod, type);
      assert.ok(p.length > 0, type);
      assert.deepEqual(
        p.filter((n) => nameTags(staging, type).includes(n)),
        [],
        `${type} Name tags shared`,
      );
    }
    for (const r of prod.resources.filter((r) => r.inputs.tags && !Array.isArray(r.inputs.tags)))
      assert.equal((r.inputs.tags as Record<string, string>)["django-ha:stack"], "production", r.type);
  });
});
