import assert from "node:assert/strict";
import { describe, it } from "node:test";
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
