import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseCidr } from "../../model";
import { planFirewall } from "../plan";
import { dropletTags, firewallTargetTags, inboundSources, planSecurityGroupRules, planTags, ruleSuffix } from ".";

const groups = planFirewall({ adminCidrs: ["203.0.113.7/32", "2001:db8::/48"], ssh: { user: "root", port: 22 } });

describe("AWS security group rules", () => {
  const rules = planSecurityGroupRules(groups);

  it("splits IPv4 and IPv6 sources, references the every-node group for members and its own group for peers", () => {
    assert.deepEqual(
      rules
        .filter((r) => r.direction === "ingress")
        .map((r) => `${r.group} ${r.ipProtocol} ${r.fromPort} ${r.cidrIpv4 ?? r.cidrIpv6 ?? `sg:${r.referencedGroup}`}`),
      [
        "admin tcp 22 203.0.113.7/32",
        "admin tcp 22 2001:db8::/48",
        "admin icmp 8 0.0.0.0/0",
        "admin icmp 3 0.0.0.0/0",
        "admin icmp 11 0.0.0.0/0",
        "admin icmp 12 0.0.0.0/0",
        "admin icmpv6 128 ::/0",
        "admin icmpv6 1 ::/0",
        "admin icmpv6 2 ::/0",
        "admin icmpv6 3 ::/0",
        "admin icmpv6 4 ::/0",
        "web tcp 80 0.0.0.0/0",
        "web tcp 80 ::/0",
        "web tcp 443 0.0.0.0/0",
        "web tcp 443 ::/0",
        "data tcp 22 sg:data",
        "data tcp 5432 sg:admin",
        "data tcp 2049 sg:admin",
        "data tcp 111 sg:admin",
        "data udp 111 sg:admin",
        "data tcp 20048 sg:admin",
        "data tcp 6379 sg:admin",
      ],
    );
    assert.deepEqual(
      rules.filter((r) => r.direction === "egress").map((r) => [r.group, r.ipProtocol, r.cidrIpv4 ?? r.cidrIpv6]),
      [
        ["admin", "-1", "0.0.0.0/0"],
        ["admin", "-1", "::/0"],
      ],
    );
  });

  it("gives every rule a distinct resource name", () => {
    const names = rules.map(ruleSuffix);
    assert.equal(new Set(names).size, names.length);
    assert.equal(ruleSuffix(rules[0]), "admin-in-22-203-0-113-7-32");
  });

  it("writes every rule description in the characters EC2 allows (a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*, at most 255)", () => {
    for (const r of rules) assert.match(r.description, /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]{1,255}$/, r.description);
  });

  it("gives distinct resource names for any set of distinct admin CIDRs, IPv4 and IPv6 mixed (property)", () => {
    // Canonical CIDRs as the spec holds them: a random address, masked to a random prefix.
    const v4 = fc
      .tuple(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 1, max: 32 }))
      .map(([b, p]) => `${b.join(".")}/${p}`);
    const v6 = fc
      .tuple(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), fc.integer({ min: 1, max: 128 }))
      .map(([g, p]) => `${g.map((x) => x.toString(16)).join(":")}/${p}`);
    const canonical = (text: string) => {
      const r = parseCidr(text);
      return r.ok ? r.cidr.text : /did you mean (\S+) \(the whole network\)/.exec(r.fix)?.[1];
    };
    fc.assert(
      fc.property(fc.array(fc.oneof(v4, v6), { minLength: 1, maxLength: 12 }), (raw) => {
        const cidrs = [...new Set(raw.map(canonical).filter((c): c is string => c !== undefined && parseCidr(c).ok))];
        const names = planSecurityGroupRules(planFirewall({ adminCidrs: cidrs, ssh: { user: "root", port: 22 } })).map(ruleSuffix);
        assert.equal(new Set(names).size, names.length, names.join("\n"));
      }),
      { numRuns: 300 },
    );
  });
});

describe("DigitalOcean tags and firewall sources", () => {
  const tags = planTags({ clusterName: "shop", stack: "production", tags: { env: "prod", team: "web-ops" } });

  it("names the cluster, role and user tags", () => {
    assert.equal(tags.cluster, "django-ha-shop-production");
    assert.equal(tags.roles.child, "shop-production-child");
    assert.deepEqual(tags.user, ["env:prod", "team:web-ops"]);
  });

  it("tags a droplet with the cluster, its firewall tag, a database machine's role, and the user's tags", () => {
    assert.deepEqual(dropletTags("parent", tags), [
      "django-ha-shop-production",
      "shop-production-db",
      "shop-production-parent",
      "env:prod",
      "team:web-ops",
    ]);
    assert.deepEqual(dropletTags("standby", tags), [
      "django-ha-shop-production",
      "shop-production-db",
      "shop-production-standby",
      "env:prod",
      "team:web-ops",
    ]);
    assert.deepEqual(dropletTags("child", tags), ["django-ha-shop-production", "shop-production-child", "env:prod", "team:web-ops"]);
  });

  it("targets the cluster tag for every-node groups, the database machines' tag for the data group, role tags otherwise", () => {
    assert.deepEqual(
      groups.map((g) => firewallTargetTags(g, tags)),
      [["django-ha-shop-production"], ["shop-production-child"], ["shop-production-db"]],
    );
  });

  it("maps sources to addresses, the cluster tag or the group's own tags", () => {
    assert.deepEqual(inboundSources({ kind: "internet" }, "c", ["g"]), { sourceAddresses: ["0.0.0.0/0", "::/0"] });
    assert.deepEqual(inboundSources({ kind: "cidrs", cidrs: ["203.0.113.7/32"] }, "c", ["g"]), { sourceAddresses: ["203.0.113.7/32"] });
    assert.deepEqual(inboundSources({ kind: "members" }, "c", ["g"]), { sourceTags: ["c"] });
    assert.deepEqual(inboundSources({ kind: "peers" }, "c", ["c-parent", "c-standby"]), { sourceTags: ["c-parent", "c-standby"] });
  });
});

describe("firewall expansions (property)", () => {
  const v4 = fc
    .tuple(fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 8, max: 32 }))
    .map(([a, b, bits]) => `${a}.${b}.0.0/${bits}`);
  const v6 = fc.integer({ min: 16, max: 128 }).map((bits) => `2001:db8::/${bits}`);
  const inputs = fc.record({
    adminCidrs: fc.array(fc.oneof(v4, v6), { minLength: 1, maxLength: 6 }),
    port: fc.integer({ min: 1, max: 65535 }),
  });

  it("never opens anything to the Internet but 80/443 on children, and SSH only to the admin CIDRs", () => {
    fc.assert(
      fc.property(inputs, ({ adminCidrs, port }) => {
        const plan = planFirewall({ adminCidrs, ssh: { user: "root", port } });
        for (const rule of planSecurityGroupRules(plan).filter((r) => r.direction === "ingress")) {
          const group = plan.find((g) => g.name === rule.group)!;
          const source = rule.cidrIpv4 ?? rule.cidrIpv6;
          if (rule.ipProtocol.startsWith("icmp")) {
            // Ping and the errors path-MTU discovery needs, on every node, every code of the type.
            assert.ok(
              group.roles.length === 4 && rule.toPort === -1 && (source === "0.0.0.0/0" || source === "::/0"),
              JSON.stringify(rule),
            );
          } else if (source === "0.0.0.0/0" || source === "::/0") {
            assert.ok([80, 443].includes(rule.fromPort!) && group.roles.join() === "child", JSON.stringify(rule));
          } else if (source) {
            assert.ok(adminCidrs.includes(source) && rule.fromPort === port, JSON.stringify(rule));
          } else if (rule.referencedGroup === "data") {
            assert.deepEqual([rule.group, rule.fromPort], ["data", port], "only SSH between the database nodes");
          } else {
            assert.deepEqual([rule.referencedGroup, group.roles], ["admin", ["parent", "standby"]]);
            assert.ok(
              rule.fromPort !== port || port === 2049 || port === 5432 || port === 6379 || port === 111 || port === 20048,
              "SSH never from all members",
            );
          }
        }
        const tags = planTags({ clusterName: "c", stack: "s", tags: {} });
        for (const g of plan) {
          for (const r of g.inbound) {
            const s = inboundSources(r.source, tags.cluster, firewallTargetTags(g, tags));
            if (s.sourceAddresses?.some((a) => a.endsWith("/0")))
              assert.deepEqual([firewallTargetTags(g, tags), [80, 443].includes(r.port)], [["c-s-child"], true]);
            if (s.sourceTags && r.source.kind === "peers") assert.deepEqual([s.sourceTags, r.port], [["c-s-db"], port]);
            else if (s.sourceTags) assert.deepEqual(s.sourceTags, [tags.cluster]);
          }
        }
      }),
    );
  });
});
