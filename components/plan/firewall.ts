import type { ClusterSpec, Role } from "../../spec";

/** Where inbound traffic may come from. */
export type RuleSource =
  /** Anyone on the Internet (0.0.0.0/0 and ::/0). */
  | { kind: "internet" }
  /** The operator's networks: django-ha:adminCidrs. */
  | { kind: "cidrs"; cidrs: string[] }
  /** Machines of this cluster, over the private network. */
  | { kind: "members" };

/** One allowed inbound port. Anything not listed is refused. */
export interface InboundRule {
  port: number;
  protocol: "tcp";
  source: RuleSource;
  /** Why the port is open, shown in the plan and used as the rule description. */
  purpose: string;
}

/** A set of rules applied to the nodes of some roles (a DigitalOcean firewall, an AWS security group). */
export interface FirewallGroup {
  /** Short name, used in resource names: `${cluster}-${name}`. */
  name: "admin" | "web" | "data";
  roles: Role[];
  inbound: InboundRule[];
  /** All outbound traffic allowed (package mirrors, ACME, provider APIs). */
  outboundAll: boolean;
}

export const PUBLIC_WEB_PORTS = [80, 443] as const;
export const SSH_PORT = 22;
export const POSTGRES_PORT = 5432;
/** nfs-ganesha serves NFSv4 only on 2049: no portmapper, mountd or statd ports needed. */
export const NFS_PORT = 2049;
export const REDIS_PORT = 6379;

/**
 * The cluster's firewall, provider-neutral. Pure.
 * - admin: SSH only from the admin CIDRs (each once: a repeated CIDR would name two rules alike), on every node; all outbound.
 * - web: 80/443 from the Internet, on the children only (the public record's members).
 * - data: PostgreSQL, NFS and Redis from cluster members only, on the parent and the standby
 *   (the standby takes over all three on failover).
 */
export function planFirewall(spec: Pick<ClusterSpec, "adminCidrs" | "ssh">): FirewallGroup[] {
  const sshPort = spec.ssh.port;
  return [
    {
      name: "admin",
      roles: ["parent", "standby", "child", "worker"],
      inbound: [{ port: sshPort, protocol: "tcp", source: { kind: "cidrs", cidrs: [...new Set(spec.adminCidrs)] }, purpose: "SSH from the admin networks" }],
      outboundAll: true,
    },
    {
      name: "web",
      roles: ["child"],
      inbound: PUBLIC_WEB_PORTS.map((port): InboundRule => ({ port, protocol: "tcp", source: { kind: "internet" }, purpose: port === 80 ? "HTTP (ACME HTTP-01, redirect to HTTPS)" : "HTTPS" })),
      outboundAll: false,
    },
    {
      name: "data",
      roles: ["parent", "standby"],
      inbound: [
        { port: POSTGRES_PORT, protocol: "tcp", source: { kind: "members" }, purpose: "PostgreSQL (clients and replication)" },
        { port: NFS_PORT, protocol: "tcp", source: { kind: "members" }, purpose: "NFSv4 share (nfs-ganesha)" },
        { port: REDIS_PORT, protocol: "tcp", source: { kind: "members" }, purpose: "Redis (Celery broker, replica)" },
      ],
      outboundAll: false,
    },
  ];
}

/** Every inbound port a node of `role` accepts, with its source. Pure; used by the hosts target's node firewalls and the plan. */
export function inboundFor(groups: FirewallGroup[], role: Role): InboundRule[] {
  return groups.filter((g) => g.roles.includes(role)).flatMap((g) => g.inbound);
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
    default: {
      const never: never = source;
      throw new Error(`unknown rule source ${JSON.stringify(never)}`);
    }
  }
}
