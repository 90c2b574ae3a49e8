import { machineKind, type ClusterSpec, type PlannedNode } from "../../spec";

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
