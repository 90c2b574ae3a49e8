import { machineKind, unknownProvider, type ClusterSpec, type PlannedNode } from "../../model";

/** The public round-robin record: which nodes are in it, under which name, with which TTL. */
export interface RecordPlan {
  /** Fully qualified name, e.g. www.example.com. */
  fqdn: string;
  /** Name relative to the domain ("@" for the apex), as DigitalOcean wants it. */
  relativeName: string;
  ttl: number;
  /** The children, in order; never a database machine or the worker (they serve no web traffic). */
  members: PlannedNode[];
}

/** Plan the round-robin record. Pure. */
export function planRecord(spec: Pick<ClusterSpec, "recordFqdn" | "recordName" | "ttl">, nodes: PlannedNode[]): RecordPlan {
  return { fqdn: spec.recordFqdn, relativeName: spec.recordName, ttl: spec.ttl, members: nodes.filter((n) => n.role === "child") };
}

/**
 * Short, stable key of a planned machine inside its cluster, for resource names: `db-1`, `db-2`, `child-3`,
 * `worker`. Keyed by the machine, never by its role: a failover (django-ha:primary) renames nothing. Pure.
 */
export function nodeKey(node: Pick<PlannedNode, "role" | "index">): string {
  const kind = machineKind(node.role);
  return kind === "worker" ? kind : `${kind}-${node.index}`;
}

/**
 * The key a database machine had before the neutral names: db-1 was `parent`, db-2 `standby` (same zone, same
 * volumes). Given to Pulumi as an alias, so a stack created then keeps its machines and volumes instead of
 * replacing them. Undefined for other machines (their keys did not change). Pure.
 */
export function legacyNodeKey(node: Pick<PlannedNode, "role" | "index">): string | undefined {
  if (machineKind(node.role) !== "db") return undefined;
  return node.index === 1 ? "parent" : "standby";
}

/** Resource options aliasing a machine's component to its legacy key (children follow their parent's alias). */
export function legacyAliases(componentName: string, node: Pick<PlannedNode, "role" | "index">): { aliases?: { name: string }[] } {
  const legacy = legacyNodeKey(node);
  return legacy ? { aliases: [{ name: `${componentName}-${legacy}` }] } : {};
}

/** Where the public record lives and who keeps it, in words (the offline plan prints it). Pure. */
export function describeDnsTarget(spec: ClusterSpec): string {
  switch (spec.provider) {
    case "digitalocean":
      return `DigitalOcean domain ${spec.domain} (must exist in the account)`;
    case "aws":
      return `Route 53 zone ${spec.hostedZoneId ?? `named ${spec.domain}`}, multivalue answers with a health check per child`;
    case "hosts":
      return `RFC 2136 updates to ${spec.dns.server}:${spec.dns.port} zone ${spec.dns.zone} (set by the scripts, not by Pulumi)`;
    default:
      return unknownProvider(spec);
  }
}
