/**
 * The cluster's ONE firewall policy: per role, which port and protocol is open to which source. Pure data.
 * Both firewalls are derived from it and from nothing else:
 * - the cloud firewalls (components/plan/firewall.ts → DigitalOcean firewalls, AWS security groups), and
 * - each node's own nftables ruleset (roles/common.ts `firewallFor` → roles/files/nftables.ts).
 * ICMP is policy too (ICMP_TYPES, on the group every node carries): ping and the errors path-MTU discovery needs,
 * from anywhere, on both layers. What only the nodes' rulesets hold (loopback, connection tracking, IPv6
 * neighbour discovery, DHCPv6) is listed in NODE_BASE_RULES with the ICMP lines, each saying what the cloud
 * firewalls do for it; components/plan/firewall.test.ts checks that the two rendered firewalls allow exactly the
 * same traffic apart from those.
 */
import { PORTS } from "./ports";
import type { Role } from "./topology";

/** The cloud firewall groups (DigitalOcean firewalls, AWS security groups); their names are part of resource names. */
export const FIREWALL_GROUPS = ["admin", "web", "data"] as const;
export type FirewallGroupName = (typeof FIREWALL_GROUPS)[number];

/** Where inbound traffic may come from. */
export type RuleSource =
  /** Anyone on the Internet (0.0.0.0/0 and ::/0). */
  | { kind: "internet" }
  /** The operator's networks: django-ha:adminCidrs. */
  | { kind: "cidrs"; cidrs: string[] }
  /** Machines of this cluster, over the private network. */
  | { kind: "members" }
  /** The other machines of the same group only (e.g. the two database nodes), over the private network. */
  | { kind: "peers" };

/** One allowed inbound port. Anything not listed is refused. */
export interface InboundRule {
  port: number;
  protocol: "tcp" | "udp";
  source: RuleSource;
  /** Why the port is open: shown in the plan, the cloud rule's description and the nftables comment. */
  purpose: string;
}

/** A set of rules applied to the nodes of some roles (a DigitalOcean firewall, an AWS security group, part of each node's nftables). */
export interface FirewallGroup {
  /** Short name, used in resource names: `${cluster}-${name}`. */
  name: FirewallGroupName;
  roles: Role[];
  inbound: InboundRule[];
  /** ICMP accepted from anywhere (IPv4 and IPv6), by type; empty on groups that do not carry it. */
  icmp: readonly IcmpType[];
  /** All outbound traffic allowed (package mirrors, ACME, provider APIs). */
  outboundAll: boolean;
}

/** One ICMP or ICMPv6 message type: nftables names it, AWS security group rules number it (IANA). */
export interface IcmpType {
  family: 4 | 6;
  name: string;
  number: number;
  /** Stays on the link (IPv6 neighbour discovery): it never crosses a cloud firewall, so only the node lists it. */
  linkLocal?: true;
}

/**
 * The ICMP every node accepts from anywhere. Ping, and the errors TCP needs: without "fragmentation needed"
 * (destination-unreachable code 4) and ICMPv6 packet-too-big, path-MTU discovery fails and a client behind a
 * smaller-MTU link (PPPoE, a VPN) sees connections hang on large responses (RFC 2979: a firewall that passes
 * packets with DF set must not block these). AWS security groups drop all inbound ICMP unless a rule allows it.
 */
export const ICMP_TYPES: readonly IcmpType[] = [
  { family: 4, name: "echo-request", number: 8 },
  { family: 4, name: "destination-unreachable", number: 3 },
  { family: 4, name: "time-exceeded", number: 11 },
  { family: 4, name: "parameter-problem", number: 12 },
  { family: 6, name: "echo-request", number: 128 },
  { family: 6, name: "destination-unreachable", number: 1 },
  { family: 6, name: "packet-too-big", number: 2 },
  { family: 6, name: "time-exceeded", number: 3 },
  { family: 6, name: "parameter-problem", number: 4 },
  { family: 6, name: "nd-router-advert", number: 134, linkLocal: true },
  { family: 6, name: "nd-neighbor-solicit", number: 135, linkLocal: true },
  { family: 6, name: "nd-neighbor-advert", number: 136, linkLocal: true },
];

/** The ICMP types a cloud firewall sees (not link-local), which the group every node carries allows. */
export const CLOUD_ICMP_TYPES: readonly IcmpType[] = ICMP_TYPES.filter((t) => !t.linkLocal);

/**
 * What each node's own ruleset accepts before the groups' ports, in this order; nothing else is implicit. Each
 * says what the cloud firewalls do for it: most have no cloud counterpart (loopback, connection tracking,
 * link-local traffic); the ICMP lines render ICMP_TYPES, which the cloud firewalls allow too (FirewallGroup.icmp).
 */
export type NodeBaseRule =
  | { kind: "loopback"; why: string }
  | { kind: "conntrack"; states: readonly ("established" | "related" | "invalid")[]; verdict: "accept" | "drop"; why: string }
  | { kind: "icmp"; family: 4 | 6; types: readonly IcmpType[]; why: string }
  | { kind: "port"; protocol: "tcp" | "udp"; port: number; fromCidr: string; comment: string; why: string };

export const NODE_BASE_RULES: readonly NodeBaseRule[] = [
  { kind: "loopback", why: "traffic a node sends itself never crosses a cloud firewall" },
  {
    kind: "conntrack",
    states: ["established", "related"],
    verdict: "accept",
    why: "replies to the node's own connections: the cloud firewalls are stateful and pass them without a rule",
  },
  {
    kind: "conntrack",
    states: ["invalid"],
    verdict: "drop",
    why: "packets connection tracking cannot place are dropped on the node before any accept rule; the cloud firewalls offer no such setting",
  },
  {
    kind: "icmp",
    family: 4,
    types: ICMP_TYPES.filter((t) => t.family === 4),
    why: "ping and the errors TCP's path-MTU discovery needs, from anywhere (ICMP_TYPES); the cloud firewalls allow the same on every node: AWS by type, DigitalOcean all ICMP (its firewalls take no type), which the node narrows to these",
  },
  {
    kind: "icmp",
    family: 6,
    types: ICMP_TYPES.filter((t) => t.family === 6),
    why: "as for IPv4, plus neighbour discovery (nd-*), which IPv6 cannot work without and which stays on the link: no cloud firewall sees it",
  },
  {
    kind: "port",
    protocol: "udp",
    port: 546,
    fromCidr: "fe80::/10",
    comment: "DHCPv6 replies (AWS IPv6)",
    why: "link-local DHCPv6 replies from the VPC's router (AWS IPv6) never cross a security group",
  },
];

/** The cluster's outbound policy, the same on both firewalls: everything (package mirrors, ACME, provider APIs, DNS updates). */
export const OUTBOUND = "all" as const;

/** What the policy depends on: the admin networks (canonical CIDR text) and the SSH port. */
export interface FirewallPolicyInput {
  adminCidrs: readonly string[];
  sshPort: number;
}

const fromMembers = (port: number, purpose: string, protocol: "tcp" | "udp" = "tcp"): InboundRule => ({
  port,
  protocol,
  source: { kind: "members" },
  purpose,
});

/**
 * The cluster's firewall groups. Pure.
 * - admin: SSH only from the admin CIDRs (each once: a repeated CIDR would name two rules alike), and the
 *   ICMP of CLOUD_ICMP_TYPES from anywhere, on every node; all outbound.
 * - web: 80/443 from the Internet, on the children only (the public record's members).
 * - data, on the parent and the standby (the standby takes over all of it on failover, so a failover needs
 *   no firewall change): PostgreSQL, NFS (v4 on 2049; rpcbind and mountd for the NFSv3 the roles' libnfs
 *   checks use) and Redis from cluster members; SSH between the two of them only, for the share replication
 *   (lsyncd: rsync over SSH, confined to rrsync of the share by the standby's authorized_keys).
 */
export function firewallGroups(input: FirewallPolicyInput): FirewallGroup[] {
  const sshPort = input.sshPort;
  return [
    {
      name: "admin",
      roles: ["parent", "standby", "child", "worker"],
      inbound: [
        {
          port: sshPort,
          protocol: "tcp",
          source: { kind: "cidrs", cidrs: [...new Set(input.adminCidrs)] },
          purpose: "SSH from the admin networks",
        },
      ],
      icmp: CLOUD_ICMP_TYPES,
      outboundAll: OUTBOUND === "all",
    },
    {
      name: "web",
      roles: ["child"],
      inbound: [
        { port: PORTS.http, protocol: "tcp", source: { kind: "internet" }, purpose: "HTTP (ACME HTTP-01, redirect to HTTPS)" },
        { port: PORTS.https, protocol: "tcp", source: { kind: "internet" }, purpose: "HTTPS" },
      ],
      icmp: [],
      outboundAll: false,
    },
    {
      name: "data",
      roles: ["parent", "standby"],
      inbound: [
        {
          port: sshPort,
          protocol: "tcp",
          source: { kind: "peers" },
          purpose: "share replication (lsyncd: rsync over SSH between the database nodes)",
        },
        fromMembers(PORTS.postgres, "PostgreSQL (clients and replication)"),
        fromMembers(PORTS.nfs, "NFSv4 share (nfs-ganesha)"),
        fromMembers(PORTS.rpcbind, "rpcbind (NFSv3 for the libnfs checks)"),
        fromMembers(PORTS.rpcbind, "rpcbind (NFSv3 for the libnfs checks)", "udp"),
        fromMembers(PORTS.mountd, "mountd (NFSv3 for the libnfs checks)"),
        fromMembers(PORTS.redis, "Redis (Celery broker, replica)"),
      ],
      icmp: [],
      outboundAll: false,
    },
  ];
}

/** The groups a node of `role` belongs to. Pure. */
export function groupsFor(groups: readonly FirewallGroup[], role: Role): FirewallGroup[] {
  return groups.filter((g) => g.roles.includes(role));
}

/** Every inbound port a node of `role` accepts, with its source. Pure. */
export function inboundFor(groups: readonly FirewallGroup[], role: Role): InboundRule[] {
  return groupsFor(groups, role).flatMap((g) => g.inbound);
}

/** Human form of a rule source, e.g. "203.0.113.7/32" or "cluster members". */
export function describeSource(source: RuleSource): string {
  switch (source.kind) {
    case "internet":
      return "anywhere (0.0.0.0/0, ::/0)";
    case "cidrs":
      return source.cidrs.join(", ");
    case "members":
      return "cluster members (private network)";
    case "peers":
      return "each other (private network)";
    default: {
      const never: never = source;
      throw new Error(`unknown rule source ${JSON.stringify(never)}`);
    }
  }
}
