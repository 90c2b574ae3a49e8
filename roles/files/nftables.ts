/**
 * /etc/nftables.conf: the host firewall in its own table (`inet django_ha`), so reloading it never touches
 * other tables. Policy drop on input; the policy's base rules (model/firewall.ts NODE_BASE_RULES: loopback,
 * connection tracking, ICMP, DHCPv6), then the listed services.
 */
import * as net from "node:net";
import { NODE_BASE_RULES, type NodeBaseRule } from "../../model/firewall";

export interface FirewallRule {
  comment: string;
  protocol: "tcp" | "udp";
  ports: number[];
  /** Allowed sources (addresses or CIDRs); "any" = from anywhere. */
  from: string[] | "any";
}

export interface Firewall {
  rules: FirewallRule[];
  /** What the node accepts before `rules`. Defaults to the cluster policy's NODE_BASE_RULES (model/firewall.ts). */
  base?: readonly NodeBaseRule[];
}

const v4 = (a: string) => net.isIP(a.split("/")[0]) === 4;

function portSet(ports: number[]): string {
  return ports.length === 1 ? String(ports[0]) : `{ ${ports.join(", ")} }`;
}

function ruleLines(rule: FirewallRule): string[] {
  const dport = `${rule.protocol} dport ${portSet(rule.ports)}`;
  const comment = `comment "${rule.comment.replace(/"/g, "'")}"`;
  if (rule.from === "any") return [`${dport} accept ${comment}`];
  const out: string[] = [];
  const four = rule.from.filter(v4);
  const six = rule.from.filter((a) => !v4(a));
  if (four.length) out.push(`ip saddr { ${four.join(", ")} } ${dport} accept ${comment}`);
  if (six.length) out.push(`ip6 saddr { ${six.join(", ")} } ${dport} accept ${comment}`);
  return out;
}

/** The nftables line of one base rule. Pure. */
export function baseRuleLine(rule: NodeBaseRule): string {
  switch (rule.kind) {
    case "loopback":
      return 'iif "lo" accept';
    case "conntrack":
      return `ct state ${rule.states.join(",")} ${rule.verdict}`;
    case "icmp":
      return `${rule.family === 4 ? "icmp" : "icmpv6"} type { ${rule.types.map((t) => t.name).join(", ")} } accept`;
    case "port":
      return `${v4(rule.fromCidr) ? "ip" : "ip6"} saddr ${rule.fromCidr} ${rule.protocol} dport ${rule.port} accept comment "${rule.comment}"`;
    default: {
      const never: never = rule;
      throw new Error(`unknown base rule ${JSON.stringify(never)}`);
    }
  }
}

export function renderNftables(fw: Firewall): string {
  const base = (fw.base ?? NODE_BASE_RULES).map((r) => `        ${baseRuleLine(r)}`);
  const rules = fw.rules.flatMap(ruleLines).map((l) => `        ${l}`);
  return `#!/usr/sbin/nft -f
# django-ha: host firewall. Only the table inet django_ha is replaced; other tables are left alone.
table inet django_ha
delete table inet django_ha

table inet django_ha {
    chain input {
        type filter hook input priority filter; policy drop;
${base.join("\n")}
${rules.join("\n")}
    }
}
`;
}
