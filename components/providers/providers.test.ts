import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { planFirewall } from "../plan";
import { firewallTargetTags, inboundSources, planSecurityGroupRules, planTags, ruleSuffix } from ".";

const groups = planFirewall({ adminCidrs: ["203.0.113.7/32", "2001:db8::/48"], ssh: { user: "root", port: 22 } });

describe("AWS security group rules", () => {
  const rules = planSecurityGroupRules(groups);

  it("splits IPv4 and IPv6 sources and references the every-node group for members", () => {
    assert.deepEqual(
      rules.filter((r) => r.direction === "ingress").map((r) => `${r.group} ${r.fromPort} ${r.cidrIpv4 ?? r.cidrIpv6 ?? `sg:${r.referencedGroup}`}`),
      ["admin 22 203.0.113.7/32", "admin 22 2001:db8::/48", "web 80 0.0.0.0/0", "web 80 ::/0", "web 443 0.0.0.0/0", "web 443 ::/0", "data 5432 sg:admin", "data 2049 sg:admin", "data 6379 sg:admin"],
    );
    assert.deepEqual(rules.filter((r) => r.direction === "egress").map((r) => [r.group, r.ipProtocol, r.cidrIpv4 ?? r.cidrIpv6]), [["admin", "-1", "0.0.0.0/0"], ["admin", "-1", "::/0"]]);
  });

  it("gives every rule a distinct resource name", () => {
    const names = rules.map(ruleSuffix);
    assert.equal(new Set(names).size, names.length);
    assert.equal(ruleSuffix(rules[0]), "admin-in-22-203-0-113-7-32");
  });
});

describe("DigitalOcean tags and firewall sources", () => {
  const tags = planTags({ clusterName: "shop", tags: { env: "prod", team: "web.ops" } });

  it("names the cluster, role and user tags", () => {
    assert.equal(tags.cluster, "django-ha-shop");
    assert.equal(tags.roles.child, "shop-child");
    assert.deepEqual(tags.user, ["env:prod", "team:web-ops"]);
  });

  it("targets the cluster tag for every-node groups and role tags otherwise", () => {
    assert.deepEqual(groups.map((g) => firewallTargetTags(g, tags)), [["django-ha-shop"], ["shop-child"], ["shop-parent", "shop-standby"]]);
  });

  it("maps sources to addresses or the cluster tag", () => {
    assert.deepEqual(inboundSources({ kind: "internet" }, "c"), { sourceAddresses: ["0.0.0.0/0", "::/0"] });
    assert.deepEqual(inboundSources({ kind: "cidrs", cidrs: ["203.0.113.7/32"] }, "c"), { sourceAddresses: ["203.0.113.7/32"] });
    assert.deepEqual(inboundSources({ kind: "members" }, "c"), { sourceTags: ["c"] });
  });
});

describe("firewall expansions (property)", () => {
  const v4 = fc.tuple(fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 8, max: 32 })).map(([a, b, bits]) => `${a}.${b}.0.0/${bits}`);
  const v6 = fc.integer({ min: 16, max: 128 }).map((bits) => `2001:db8::/${bits}`);
  const inputs = fc.record({ adminCidrs: fc.array(fc.oneof(v4, v6), { minLength: 1, maxLength: 6 }), port: fc.integer({ min: 1, max: 65535 }) });

  it("never opens anything to the Internet but 80/443 on children, and SSH only to the admin CIDRs", () => {
    fc.assert(
      fc.property(inputs, ({ adminCidrs, port }) => {
        const plan = planFirewall({ adminCidrs, ssh: { user: "root", port } });
        for (const rule of planSecurityGroupRules(plan).filter((r) => r.direction === "ingress")) {
          const group = plan.find((g) => g.name === rule.group)!;
          const source = rule.cidrIpv4 ?? rule.cidrIpv6;
          if (source === "0.0.0.0/0" || source === "::/0") {
            assert.ok([80, 443].includes(rule.fromPort!) && group.roles.join() === "child", JSON.stringify(rule));
          } else if (source) {
            assert.ok(adminCidrs.includes(source) && rule.fromPort === port, JSON.stringify(rule));
          } else {
            assert.deepEqual([rule.referencedGroup, group.roles], ["admin", ["parent", "standby"]]);
          }
        }
        const tags = planTags({ clusterName: "c", tags: {} });
        for (const g of plan) {
          for (const r of g.inbound) {
            const s = inboundSources(r.source, tags.cluster);
            if (s.sourceAddresses?.some((a) => a.endsWith("/0"))) assert.deepEqual([firewallTargetTags(g, tags), [80, 443].includes(r.port)], [["c-child"], true]);
            if (s.sourceTags) assert.deepEqual(s.sourceTags, [tags.cluster]);
          }
        }
      }),
    );
  });
});
