/**
 * The ports the cluster's own services use (the roles render them, the firewalls open them). They live
 * here, below the roles, so the config schema can refuse an sshPort or dns.port that would clash.
 */
export const PORTS = { ssh: 22, http: 80, https: 443, postgres: 5432, redis: 6379, nfs: 2049, rpcbind: 111, mountd: 20048 } as const;

/** Every port a node of the cluster listens on for its services, with the protocol and what uses it (SSH is configurable). */
export const SERVICE_PORTS: readonly { port: number; protocol: "tcp" | "udp"; service: string }[] = [
  { port: PORTS.http, protocol: "tcp", service: "nginx (HTTP, ACME HTTP-01) on the children" },
  { port: PORTS.https, protocol: "tcp", service: "nginx (HTTPS) on the children" },
  { port: PORTS.postgres, protocol: "tcp", service: "PostgreSQL on the database machines" },
  { port: PORTS.redis, protocol: "tcp", service: "Redis on the database machines" },
  { port: PORTS.nfs, protocol: "tcp", service: "nfs-ganesha (NFSv4) on the database machines" },
  { port: PORTS.rpcbind, protocol: "tcp", service: "rpcbind on the database machines" },
  { port: PORTS.rpcbind, protocol: "udp", service: "rpcbind on the database machines" },
  { port: PORTS.mountd, protocol: "tcp", service: "mountd (nfs-ganesha NFSv3) on the database machines" },
  { port: 546, protocol: "udp", service: "the DHCPv6 client every node accepts (AWS IPv6)" },
];

/** The service using `port` (any protocol, or only `protocol`), if the cluster uses it. Pure. */
export function clusterServiceOn(port: number, protocol?: "tcp" | "udp"): string | undefined {
  return SERVICE_PORTS.find((p) => p.port === port && (!protocol || p.protocol === protocol))?.service;
}
