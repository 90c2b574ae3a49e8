import * as net from "node:net";
import type { FirewallGroup } from "../../plan";
import type { IcmpType } from "../../../model";

/** One standalone security group rule, provider-shaped but plain data. */
export interface SecurityGroupRule {
  /** The group it belongs to. */
  group: FirewallGroup["name"];
  direction: "ingress" | "egress";
  /** "tcp", "udp", "icmp", "icmpv6", or "-1" for all protocols (egress). */
  ipProtocol: string;
  /** The port; for ICMP, the message type. */
  fromPort?: number;
  /** The port; for ICMP, the code (-1: every code). */
  toPort?: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  /** Source is another of our groups (its members): the group that every node carries. */
  referencedGroup?: FirewallGroup["name"];
  description: string;
}

/**
 * Expand the firewall plan into standalone AWS security group rules (never inline rules: mixing the two
 * makes them fight). "members" becomes a reference to the group every node carries. Pure.
 */
export function planSecurityGroupRules(groups: FirewallGroup[]): SecurityGroupRule[] {
  const everyNode = groups.find((g) => g.roles.length === 4)?.name;
  const rules: SecurityGroupRule[] = [];
  for (const g of groups) {
    for (const r of g.inbound) {
      const base = {
        group: g.name,
        direction: "ingress" as const,
        ipProtocol: r.protocol,
        fromPort: r.port,
        toPort: r.port,
        description: r.purpose,
      };
      switch (r.source.kind) {
        case "internet":
          rules.push({ ...base, cidrIpv4: "0.0.0.0/0" }, { ...base, cidrIpv6: "::/0" });
          break;
        case "cidrs":
          for (const cidr of r.source.cidrs)
            rules.push(net.isIPv6(cidr.split("/")[0]) ? { ...base, cidrIpv6: cidr } : { ...base, cidrIpv4: cidr });
          break;
        case "members":
          if (!everyNode) throw new Error("a members-only rule needs a firewall group that every node carries");
          rules.push({ ...base, referencedGroup: everyNode });
          break;
        case "peers":
          // A group that references itself: only the instances carrying it.
          rules.push({ ...base, referencedGroup: g.name });
          break;
        default: {
          const never: never = r.source;
          throw new Error(`unknown rule source ${JSON.stringify(never)}`);
        }
      }
    }
    rules.push(...g.icmp.map((t) => icmpRule(g.name, t)));
    if (g.outboundAll) {
      rules.push({ group: g.name, direction: "egress", ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "all outbound (IPv4)" });
      rules.push({ group: g.name, direction: "egress", ipProtocol: "-1", cidrIpv6: "::/0", description: "all outbound (IPv6)" });
    }
  }
  return rules;
}

/** The ingress rule of one ICMP type from anywhere: the type is the "from port", every code (-1) the "to port". */
function icmpRule(group: FirewallGroup["name"], t: IcmpType): SecurityGroupRule {
  const base = { group, direction: "ingress" as const, fromPort: t.number, toPort: -1 };
  return t.family === 4
    ? { ...base, ipProtocol: "icmp", cidrIpv4: "0.0.0.0/0", description: `ICMP ${t.name}` }
    : { ...base, ipProtocol: "icmpv6", cidrIpv6: "::/0", description: `ICMPv6 ${t.name}` };
}

/** A stable resource-name suffix for a rule, e.g. `web-in-443-0-0-0-0-0`. Pure. */
export function ruleSuffix(rule: SecurityGroupRule): string {
  const cidr = rule.cidrIpv4 ?? rule.cidrIpv6;
  const peer = cidr === "0.0.0.0/0" ? "ipv4-anywhere" : cidr === "::/0" ? "ipv6-anywhere" : (cidr ?? `sg-${rule.referencedGroup}`);
  const port = rule.fromPort === undefined ? "all" : String(rule.fromPort);
  // tcp names carry no protocol (the names existing stacks have); ICMP's "port" is the message type.
  const protocol = rule.ipProtocol === "tcp" || rule.ipProtocol === "-1" ? "" : `-${rule.ipProtocol}`;
  return `${rule.group}-${rule.direction === "ingress" ? "in" : "out"}-${port}${protocol}-${peer.replace(/[^a-z0-9]+/gi, "-").replace(/-+$/, "")}`;
}
