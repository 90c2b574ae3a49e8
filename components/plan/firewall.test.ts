/**
 * One firewall policy (model/firewall.ts), two firewalls: what each node's rendered nftables ruleset accepts
 * must be exactly what the planned cloud firewalls (DigitalOcean firewalls by tag, AWS security groups) accept,
 * for every node × port × protocol × source, across every option that moves a port, a source or a role, and
 * the same ICMP types from anywhere (AWS by number, read back through this file's own IANA table; DigitalOcean
 * passes all ICMP where the node accepts any). The only differences allowed are the policy's NODE_BASE_RULES
 * other than ICMP, and IPv6 neighbour discovery (link-local). Both sides are read back from what is generated
 * (the nftables text, the providers' rule shapes), never from the policy itself.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  buildInventory,
  hostsInventory,
  NODE_BASE_RULES,
  parseClusterSpec,
  planNodes,
  type ClusterSpec,
  type Inventory,
  type InventoryNode,
} from "../../model";
import { quotaChecks } from "../../model/quotas";
import { renderNodePlan } from "../../roles";
import { fixtureAcme, fixtureContext, fixtureHealth } from "../../roles/fixtures";
import { configFor, type Provider } from "../../test/configs";
import { dropletTags, planDigitalOceanFirewalls, planSecurityGroupRules, planTags } from "../providers";
import { groupsFor, planCluster } from ".";

const ANYWHERE = ["0.0.0.0/0", "::/0"];

/** IANA ICMP and ICMPv6 type numbers by nftables name: the AWS rules name numbers, the nftables lines names. */
const IANA_ICMP: Record<"icmp" | "icmpv6", Record<number, string>> = {
  icmp: { 0: "echo-reply", 3: "destination-unreachable", 5: "redirect", 8: "echo-request", 11: "time-exceeded", 12: "parameter-problem" },
  icmpv6: {
    1: "destination-unreachable",
    2: "packet-too-big",
    3: "time-exceeded",
    4: "parameter-problem",
    128: "echo-request",
    129: "echo-reply",
    137: "nd-redirect",
  },
};

/** A machine-readable opening: `<node> <protocol>/<port> from <source>`, source a CIDR or `node:<name>` (its private address). */
type Openings = Set<string>;

/** The inventory the roles would get: hosts from the config, cloud machines with made-up addresses. */
function inventoryOf(spec: ClusterSpec): Inventory {
  if (spec.provider === "hosts") return hostsInventory(spec);
  const nodes = planNodes(spec).map((n, i): InventoryNode => ({
    name: n.name,
    role: n.role,
    zone: n.zone,
    publicAddress: `203.0.113.${i + 1}`,
    privateAddress: `10.110.0.${i + 1}`,
  }));
  return buildInventory(spec, nodes, "ZTESTZONE");
}

/** What each node's /etc/nftables.conf accepts (read from the rendered text), and the node-only lines it holds. */
function nodeOpenings(spec: ClusterSpec, inventory: Inventory): { openings: Openings; nodeOnly: Set<string> } {
  const ctx = fixtureContext({
    inventory,
    adminCidrs: spec.adminCidrs,
    acme: fixtureAcme({ certificate: spec.certificate }),
    health: fixtureHealth({ spec: spec.health }),
  });
  const byAddress = new Map(inventory.nodes.map((n) => [n.privateAddress, n.name]));
  const openings: Openings = new Set();
  const nodeOnly = new Set<string>();
  for (const node of inventory.nodes) {
    const file = renderNodePlan(node, ctx).actions.find((a) => a.kind === "file" && a.file.path === "/etc/nftables.conf");
    assert.ok(file && file.kind === "file", `${node.name}: no /etc/nftables.conf`);
    for (const line of inputChainRules(file.file.content, node.name)) {
      const parsed = parseRule(line);
      if (parsed.kind === "icmp") {
        // Neighbour discovery stays on the link: no cloud firewall sees it.
        for (const type of parsed.types.filter((t) => !t.startsWith("nd-")))
          openings.add(`${node.name} ${parsed.protocol}/${type} from ${parsed.protocol === "icmp" ? ANYWHERE[0] : ANYWHERE[1]}`);
        continue;
      }
      if (parsed.kind === "other") {
        nodeOnly.add(parsed.text);
        continue;
      }
      const sources = parsed.from === "any" ? ANYWHERE : parsed.from.map((a) => (a.includes("/") ? a : `node:${byAddress.get(a) ?? a}`));
      for (const port of parsed.ports) for (const s of sources) openings.add(`${node.name} ${parsed.protocol}/${port} from ${s}`);
    }
  }
  return { openings, nodeOnly };
}

/** The rule lines of the input chain; the chain must drop by default, and no other chain may exist (outbound: all). */
function inputChainRules(conf: string, node: string): string[] {
  const lines = conf.split("\n").map((l) => l.trim());
  const hooks = lines.filter((l) => l.startsWith("type filter hook"));
  assert.deepEqual(hooks, ["type filter hook input priority filter; policy drop;"], `${node}: one input chain, policy drop`);
  const start = lines.indexOf(hooks[0]) + 1;
  const end = lines.indexOf("}", start);
  return lines.slice(start, end).filter((l) => l && !l.startsWith("#"));
}

type ParsedRule =
  | { kind: "open"; protocol: string; ports: string[]; from: string[] | "any" }
  | { kind: "icmp"; protocol: "icmp" | "icmpv6"; types: string[] }
  | { kind: "other"; text: string };

/** One nftables rule line: `[ip|ip6 saddr { a, b }|a] tcp|udp dport N|{ N, M } accept [comment "…"]`, or something else. */
function parseRule(line: string): ParsedRule {
  const icmp = /^(icmp|icmpv6) type \{ ([^}]+) \} accept$/.exec(line);
  if (icmp) return { kind: "icmp", protocol: icmp[1] as "icmp" | "icmpv6", types: icmp[2].split(",").map((t) => t.trim()) };
  const m = /^(?:(ip6?) saddr (\{ [^}]+ \}|\S+) )?(tcp|udp) dport (\{ [^}]+ \}|\d+) accept(?: comment "[^"]*")?$/.exec(line);
  const list = (text: string) =>
    text
      .replace(/[{}]/g, "")
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
  if (!m) return { kind: "other", text: line };
  const [, , saddr, protocol, ports] = m;
  // A saddr CIDR that is a policy node-only rule is reported as such, not as an opening.
  const nodeOnlyPort = NODE_BASE_RULES.some(
    (r) => r.kind === "port" && r.fromCidr === saddr && String(r.port) === ports && r.protocol === protocol,
  );
  if (nodeOnlyPort) return { kind: "other", text: line };
  return { kind: "open", protocol, ports: list(ports), from: saddr ? list(saddr) : "any" };
}

/** What the DigitalOcean firewalls accept on each node: droplets match firewalls and tag sources by their tags. */
function digitalOceanOpenings(spec: ClusterSpec, inventory: Inventory): Openings {
  const tags = planTags(spec);
  const tagsOf = new Map(inventory.nodes.map((n) => [n.name, dropletTags(n.role, tags)]));
  const openings: Openings = new Set();
  const firewalls = planDigitalOceanFirewalls(planCluster(spec).firewall, tags);
  for (const node of inventory.nodes) {
    for (const fw of firewalls.filter((f) => f.targetTags.some((t) => tagsOf.get(node.name)?.includes(t)))) {
      for (const rule of fw.inboundRules) {
        const byTag = (rule.sourceTags ?? []).flatMap((t) =>
          inventory.nodes.filter((n) => tagsOf.get(n.name)?.includes(t)).map((n) => `node:${n.name}`),
        );
        for (const s of [...(rule.sourceAddresses ?? []), ...byTag])
          openings.add(`${node.name} ${rule.protocol}/${rule.protocol === "icmp" ? "*" : rule.portRange} from ${s}`);
      }
    }
  }
  return openings;
}

/** What the AWS security groups accept on each node: instances carry the groups of their role; group references match carriers. */
function awsOpenings(spec: ClusterSpec, inventory: Inventory): Openings {
  const groups = planCluster(spec).firewall;
  const carried = new Map(inventory.nodes.map((n) => [n.name, groupsFor(groups, n.role).map((g) => g.name)]));
  const openings: Openings = new Set();
  const rules = planSecurityGroupRules(groups).filter((r) => r.direction === "ingress");
  for (const node of inventory.nodes) {
    for (const rule of rules.filter((r) => carried.get(node.name)?.includes(r.group))) {
      const icmp = rule.ipProtocol === "icmp" || rule.ipProtocol === "icmpv6" ? rule.ipProtocol : undefined;
      if (icmp) assert.equal(rule.toPort, -1, "every code of an ICMP type");
      else assert.equal(rule.fromPort, rule.toPort, "one port per rule");
      const what = icmp ? (IANA_ICMP[icmp][Number(rule.fromPort)] ?? `#${rule.fromPort}`) : rule.fromPort;
      const referenced = rule.referencedGroup;
      const sources = referenced
        ? inventory.nodes.filter((n) => carried.get(n.name)?.includes(referenced)).map((n) => `node:${n.name}`)
        : [String(rule.cidrIpv4 ?? rule.cidrIpv6)];
      for (const s of sources) openings.add(`${node.name} ${rule.ipProtocol}/${what} from ${s}`);
    }
  }
  return openings;
}

/** Both cloud firewalls allow all outbound on every node (the nodes' rulesets have no output chain). */
function assertOutboundAll(spec: ClusterSpec, inventory: Inventory): void {
  const groups = planCluster(spec).firewall;
  const tags = planTags(spec);
  const firewalls = planDigitalOceanFirewalls(groups, tags);
  const egress = planSecurityGroupRules(groups).filter((r) => r.direction === "egress");
  for (const node of inventory.nodes) {
    const doOut = firewalls
      .filter((f) => f.targetTags.some((t) => dropletTags(node.role, tags).includes(t)))
      .flatMap((f) => f.outboundRules.map((r) => `${r.protocol} ${r.portRange ?? "all"} ${r.destinationAddresses.join(",")}`));
    assert.deepEqual(doOut.sort(), ["icmp all 0.0.0.0/0,::/0", "tcp 1-65535 0.0.0.0/0,::/0", "udp 1-65535 0.0.0.0/0,::/0"], node.name);
    const names = groupsFor(groups, node.role).map((g) => g.name);
    const awsOut = egress.filter((r) => names.includes(r.group)).map((r) => `${r.ipProtocol} ${r.cidrIpv4 ?? r.cidrIpv6}`);
    assert.deepEqual(awsOut.sort(), ["-1 0.0.0.0/0", "-1 ::/0"], node.name);
  }
}

const sorted = (s: Openings) => [...s].sort();

/** DigitalOcean's view of a node's openings: its rules take no ICMP type, so any accepted ICMP type is "icmp/*" from that family's anywhere. */
function allIcmpTypes(openings: Openings): Openings {
  return new Set([...openings].map((o) => o.replace(/ icmp(?:v6)?\/[\w-]+ from /, " icmp/* from ")));
}

/** The whole agreement check for one spec. */
function assertAgree(spec: ClusterSpec): void {
  const inventory = inventoryOf(spec);
  const node = nodeOpenings(spec, inventory);
  assert.deepEqual(
    sorted(digitalOceanOpenings(spec, inventory)),
    sorted(allIcmpTypes(node.openings)),
    "DigitalOcean firewalls = node rulesets",
  );
  assert.deepEqual(sorted(awsOpenings(spec, inventory)), sorted(node.openings), "AWS security groups = node rulesets");
  // Every node answers ping and path-MTU discovery's errors from anywhere, on both families.
  for (const n of inventory.nodes)
    for (const o of ["icmp/destination-unreachable from 0.0.0.0/0", "icmpv6/packet-too-big from ::/0", "icmp/echo-request from 0.0.0.0/0"])
      assert.ok(node.openings.has(`${n.name} ${o}`), `${n.name} ${o}`);
  // The other base lines are exactly the policy's, on every node (the parser saw nothing it could not place).
  assert.equal(node.nodeOnly.size, NODE_BASE_RULES.filter((r) => r.kind !== "icmp").length, [...node.nodeOnly].join("\n"));
  assertOutboundAll(spec, inventory);
}

const variants: [string, Provider, number, Record<string, unknown>][] = [
  ["digitalocean, defaults", "digitalocean", 2, {}],
  ["digitalocean, sshPort 2222, one child", "digitalocean", 1, { sshPort: 2222 }],
  [
    "digitalocean, after a failover (db-2 primary), health agent off",
    "digitalocean",
    3,
    { primary: "shop-db-2", health: { enabled: false } },
  ],
  ["aws, defaults", "aws", 2, {}],
  ["aws, sshPort 2200, IPv4 admin CIDRs only, 4 children", "aws", 4, { sshPort: 2200, adminCidrs: ["198.51.100.0/24", "203.0.113.9/32"] }],
  ["aws, dns-01 certificate, db-2 primary", "aws", 2, { certificate: { challenge: "dns-01" }, primary: "shop-db-2" }],
  ["hosts, defaults", "hosts", 2, {}],
  [
    "hosts, DNS server on 5353, sshPort 2222",
    "hosts",
    3,
    { sshPort: 2222, dns: { server: "198.51.100.53", port: 5353, tsigKeyName: "shop-update" } },
  ],
  ["hosts, one child, health agent off", "hosts", 1, { health: { enabled: false } }],
  [
    "hosts, IPv6 admin network only, one admin CIDR given twice in two spellings",
    "hosts",
    2,
    { adminCidrs: ["2001:db8:0:0::/48", "2001:db8::/48"] },
  ],
];

describe("one firewall policy: node rulesets and cloud firewalls allow exactly the same traffic", () => {
  for (const [label, provider, children, overrides] of variants) {
    it(label, () => assertAgree(parseClusterSpec(configFor(provider, children, overrides))));
  }

  it("for any SSH port, admin networks, children and primary, on every provider (property)", () => {
    const reserved = new Set([53, 80, 111, 443, 546, 2049, 5432, 6379, 20048]);
    fc.assert(
      fc.property(
        fc.constantFrom<Provider>("digitalocean", "aws", "hosts"),
        fc.integer({ min: 1, max: 65535 }).filter((p) => !reserved.has(p)),
        fc.uniqueArray(fc.ipV4(), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(1, 2),
        (provider, sshPort, admins, withV6, children, primary) => {
          const adminCidrs = [...admins.map((a) => `${a}/32`), ...(withV6 ? ["2001:db8:42::/48"] : [])];
          const spec = parseClusterSpec(configFor(provider, children, { sshPort, adminCidrs, primary: `shop-db-${primary}` }));
          assertAgree(spec);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("the plan's security-group quota counts the admin group's planned rules, per family", () => {
    for (const adminCidrs of [["203.0.113.9/32"], ["198.51.100.0/24", "203.0.113.9/32", "2001:db8::/48"], ["2001:db8::/48"]]) {
      const spec = parseClusterSpec(configFor("aws", 1, { adminCidrs }));
      const admin = planSecurityGroupRules(planCluster(spec).firewall).filter((r) => r.group === "admin" && r.direction === "ingress");
      const planned = Math.max(admin.filter((r) => r.cidrIpv4).length, admin.filter((r) => r.cidrIpv6).length);
      const quota = quotaChecks(spec).find((q) => q.quota.startsWith("inbound rules per security group"));
      assert.equal(quota?.needed, planned, adminCidrs.join(" "));
    }
  });

  it("notices a disagreement (the check can fail)", () => {
    const spec = parseClusterSpec(configFor("digitalocean", 2));
    const inventory = inventoryOf(spec);
    const node = nodeOpenings(spec, inventory).openings;
    const cloud = digitalOceanOpenings(spec, inventory);
    // A node that also accepted PostgreSQL from the Internet, or a cloud firewall missing the worker's SSH.
    const widened = new Set([...node, `shop-child-1 tcp/5432 from 0.0.0.0/0`]);
    assert.notDeepEqual(sorted(cloud), sorted(widened));
    const narrowed = new Set([...cloud].filter((o) => !o.startsWith("shop-worker tcp/22")));
    assert.notDeepEqual(sorted(narrowed), sorted(node));
    // An AWS rule with a wrong ICMP number (4 is source-quench, not echo-request) or one type missing.
    const aws = parseClusterSpec(configFor("aws", 1));
    const awsInventory = inventoryOf(aws);
    const awsNode = nodeOpenings(aws, awsInventory).openings;
    const awsCloud = awsOpenings(aws, awsInventory);
    assert.deepEqual(sorted(awsCloud), sorted(awsNode));
    const renumbered = new Set([...awsCloud].map((o) => o.replace("icmp/echo-request", "icmp/#4")));
    assert.notDeepEqual(sorted(renumbered), sorted(awsNode));
    const withoutPtb = new Set([...awsCloud].filter((o) => !o.includes("icmpv6/packet-too-big")));
    assert.notDeepEqual(sorted(withoutPtb), sorted(awsNode));
  });

  it("reads an unknown ruleset line as something the policy does not list", () => {
    assert.deepEqual(parseRule("tcp dport 8080 accept"), { kind: "open", protocol: "tcp", ports: ["8080"], from: "any" });
    assert.deepEqual(parseRule('ip saddr { 10.0.0.1, 10.0.0.2 } tcp dport { 1, 2 } accept comment "x"'), {
      kind: "open",
      protocol: "tcp",
      ports: ["1", "2"],
      from: ["10.0.0.1", "10.0.0.2"],
    });
    assert.deepEqual(parseRule("meta l4proto gre accept"), { kind: "other", text: "meta l4proto gre accept" });
    assert.deepEqual(parseRule("icmpv6 type { packet-too-big, nd-neighbor-solicit } accept"), {
      kind: "icmp",
      protocol: "icmpv6",
      types: ["packet-too-big", "nd-neighbor-solicit"],
    });
  });
});
