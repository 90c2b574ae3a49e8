/**
 * /etc/nftables.conf: the host firewall in its own table (`inet django_ha`), so reloading it never touches
 * other tables. Policy drop on input; loopback, established/related and the listed services allowed.
 */
import * as net from "node:net";

export interface FirewallRule {
  comment: string;
  protocol: "tcp" | "udp";
  ports: number[];
  /** Allowed sources (addresses or CIDRs); "any" = from anywhere. */
  from: string[] | "any";
}

export interface Firewall {
  rules: FirewallRule[];
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

export function renderNftables(fw: Firewall): string {
  const rules = fw.rules.flatMap(ruleLines).map((l) => `        ${l}`);
  return `#!/usr/sbin/nft -f
# django-ha: host firewall. Only the table inet django_ha is replaced; other tables are left alone.
table inet django_ha
delete table inet django_ha

table inet django_ha {
    chain input {
        type filter hook input priority filter; policy drop;
        iif "lo" accept
        ct state established,related accept
        ct state invalid drop
        icmp type { echo-request, destination-unreachable, time-exceeded, parameter-problem } accept
        icmpv6 type { echo-request, destination-unreachable, packet-too-big, time-exceeded, parameter-problem, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept
        ip6 saddr fe80::/10 udp dport 546 accept comment "DHCPv6 replies (AWS IPv6)"
${rules.join("\n")}
    }
}
`;
}
