import { PORTS } from "../../roles/context";
import type { ClusterSpec, Role } from "../../model";

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

export const PUBLIC_WEB_PORTS = [PORTS.http, PORTS.https] as const;
export const POSTGRES_PORT = PORTS.postgres;
/** nfs-ganesha: NFSv4 on 2049 for the mounts. */
export const NFS_PORT = PORTS.nfs;
/** NFSv3 side of ganesha (rpcbind, mountd): the roles' libnfs checks and the share-sync key exchange use it. */
export const RPCBIND_PORT = PORTS.rpcbind;
export const MOUNTD_PORT = PORTS.mountd;
export const REDIS_PORT = PORTS.redis;

/**
 * The cluster's firewall, provider-neutral. Pure. The same rules as each node's own nftables
 * (roles/common.ts `firewallFor`), so the cloud firewall never blocks what the roles rely on.
 * - admin: SSH only from the admin CIDRs (each once: a repeated CIDR would name two rules alike), on
 *   every node; all outbound.
 * - web: 80/443 from the Internet, on the children only (the public record's members).
 * - data, on the parent and the standby (the standby takes over all of it on failover): PostgreSQL,
 *   NFS (v4 on 2049; rpcbind and mountd for the NFSv3 the roles' libnfs checks use) and Redis from
 *   cluster members; SSH between the two of them only, for the share replication (lsyncd: rsync over SSH,
 *   confined to rrsync of the share by the standby's authorized_keys).
 */
export function planFirewall(spec: Pick<ClusterSpec, "adminCidrs" | "ssh">): FirewallGroup[] {
  const sshPort = spec.ssh.port;
  const fromMembers = (port: number, purpose: string, protocol: "tcp" | "udp" = "tcp"): InboundRule => ({
    port,
    protocol,
    source: { kind: "members" },
    purpose,
  });
  return [
    {
      name: "admin",
      roles: ["parent", "standby", "child", "worker"],
      inbound: [
        {
          port: sshPort,
          protocol: "tcp",
          source: { kind: "cidrs", cidrs: [...new Set(spec.adminCidrs)] },
          purpose: "SSH from the admin networks",
        },
      ],
      outboundAll: true,
    },
    {
      name: "web",
      roles: ["child"],
      inbound: PUBLIC_WEB_PORTS.map((port): InboundRule => ({
        port,
        protocol: "tcp",
        source: { kind: "internet" },
        purpose: port === 80 ? "HTTP (ACME HTTP-01, redirect to HTTPS)" : "HTTPS",
      })),
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
        fromMembers(POSTGRES_PORT, "PostgreSQL (clients and replication)"),
        fromMembers(NFS_PORT, "NFSv4 share (nfs-ganesha)"),
        fromMembers(RPCBIND_PORT, "rpcbind (NFSv3 for the libnfs checks)"),
        fromMembers(RPCBIND_PORT, "rpcbind (NFSv3 for the libnfs checks)", "udp"),
        fromMembers(MOUNTD_PORT, "mountd (NFSv3 for the libnfs checks)"),
        fromMembers(REDIS_PORT, "Redis (Celery broker, replica)"),
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
    case "peers":
      return "each other (private network)";
    default: {
      const never: never = source;
      throw new Error(`unknown rule source ${JSON.stringify(never)}`);
    }
  }
}
