import type { ProviderName } from "./schema";
import { databaseMachineName, primaryHostname, unknownProvider, type ClusterSpec, type HostsSpec } from "./spec";
import type { DataDevices } from "./volumes";

export const ROLES = ["parent", "standby", "child", "worker"] as const;
/**
 * A node's CURRENT role. parent = the primary now (PostgreSQL primary, NFS export, Redis master, share sync
 * source); standby = its synchronous replica. Which database machine has which follows django-ha:primary.
 */
export type Role = (typeof ROLES)[number];

/** One machine of the cluster as planned from the spec, before any address is known. */
export interface PlannedNode {
  name: string;
  role: Role;
  zone: string;
  size: string;
  /**
   * 1-based index among machines of the same kind: db-1/db-2 for the database machines (whatever their role
   * now), child-n, the worker 1. Stable across failovers: resource names are keyed by it.
   */
  index: number;
}

/** What a machine is, whatever its current role: a database machine (primary or standby), a child, the worker. */
export type MachineKind = "db" | "child" | "worker";

/** The kind of machine that holds a role. */
export function machineKind(role: Role): MachineKind {
  return role === "parent" || role === "standby" ? "db" : role;
}

/** Roles a database machine can have. */
export const DATABASE_ROLES = ["parent", "standby"] as const satisfies readonly Role[];

/** Whether a role is held by a database machine (the primary or the standby). */
export function isDatabaseRole(role: Role): role is (typeof DATABASE_ROLES)[number] {
  return role === "parent" || role === "standby";
}

/** Current role of a database machine: the primary's is "parent", the other's "standby". */
function databaseRole(name: string, primary: string): Role {
  return name === primary ? "parent" : "standby";
}

/**
 * Plan the machines of a cluster: names, roles, zones and sizes. Pure.
 * Machines are placed by their neutral names, never by role, so a failover (django-ha:primary) moves no
 * machine: db-1 in zones[0], db-2 in zones[1] (when there are several), children spread round-robin over
 * all zones starting with db-2's, worker in db-1's zone. Roles follow spec.primary.
 */
export function planNodes(spec: ClusterSpec): PlannedNode[] {
  if (spec.provider === "hosts") {
    const h = spec.hosts;
    return [
      ...h.databases.map((d, i): PlannedNode => ({
        name: d.name,
        role: databaseRole(d.name, spec.primary),
        zone: d.zone,
        size: spec.sizes.db,
        index: i + 1,
      })),
      ...h.children.map((c, i): PlannedNode => ({ name: c.name, role: "child", zone: c.zone, size: spec.sizes.child, index: i + 1 })),
      { name: h.worker.name, role: "worker", zone: h.worker.zone, size: spec.sizes.worker, index: 1 },
    ];
  }
  const zones = spec.zones;
  const zoneAt = (i: number) => zones[i % zones.length];
  const nodes: PlannedNode[] = [1, 2].map((n) => {
    const name = databaseMachineName(spec.clusterName, n);
    return { name, role: databaseRole(name, spec.primary), zone: zoneAt(n - 1), size: spec.sizes.db, index: n };
  });
  for (let i = 0; i < spec.childCount; i++) {
    nodes.push({ name: `${spec.clusterName}-child-${i + 1}`, role: "child", zone: zoneAt(i + 1), size: spec.sizes.child, index: i + 1 });
  }
  nodes.push({ name: `${spec.clusterName}-worker`, role: "worker", zone: zoneAt(0), size: spec.sizes.worker, index: 1 });
  return nodes;
}

/** Where the round-robin record's members and the failover's DNS changes go. */
export type DnsTarget =
  | { kind: "digitalocean"; domain: string; recordName: string }
  | { kind: "route53"; hostedZoneId: string; recordName: string }
  | { kind: "rfc2136"; server: string; port: number; zone: string; keyName: string; algorithm: string };

export interface InventoryNode {
  name: string;
  role: Role;
  /** Address SSH and the public reach the node on. */
  publicAddress: string;
  /** Address on the cluster's private network. */
  privateAddress: string;
  zone: string;
  /**
   * database machines: stable device paths of the DB and share volumes, which the bootstrap formats when
   * blank and mounts. Absent: the data stays on the root disk (a hosts node without dataDevices).
   */
  dataDevices?: DataDevices;
}

/**
 * What the scripts (bootstrap, failover, lab) need to reach and reason about a running cluster.
 * The Pulumi program exports it as the stack output `inventory`; the lab writes the same shape.
 */
export interface Inventory {
  version: 1;
  provider: ProviderName;
  cluster: string;
  region: string;
  domain: string;
  recordFqdn: string;
  ttl: number;
  /** `primary.<cluster>.internal`, kept in every node's managed /etc/hosts block. */
  primaryHostname: string;
  /** Name of the node that is the PostgreSQL primary / NFS server now. */
  primary: string;
  /** Name of the node that is the synchronous standby now. */
  standby: string;
  nodes: InventoryNode[];
  ssh: { user: string; port: number };
  dns: DnsTarget;
  acme: { email: string; directoryUrl: string };
  syncReplication: ClusterSpec["syncReplication"];
}

/** The DNS target a spec's record lives in. */
export function dnsTargetOf(spec: ClusterSpec, hostedZoneId?: string): DnsTarget {
  switch (spec.provider) {
    case "digitalocean":
      return { kind: "digitalocean", domain: spec.domain, recordName: spec.recordName };
    case "aws":
      return { kind: "route53", hostedZoneId: hostedZoneId ?? spec.hostedZoneId ?? "", recordName: spec.recordFqdn };
    case "hosts": {
      const d = spec.dns;
      return { kind: "rfc2136", server: d.server, port: d.port, zone: d.zone, keyName: d.tsigKeyName, algorithm: d.tsigAlgorithm };
    }
    default:
      return unknownProvider(spec);
  }
}

/** Assemble an inventory from planned nodes (roles as of spec.primary) and their addresses. Pure. */
export function buildInventory(spec: ClusterSpec, nodes: InventoryNode[], hostedZoneId?: string): Inventory {
  const parents = nodes.filter((n) => n.role === "parent");
  const standbys = nodes.filter((n) => n.role === "standby");
  if (parents.length !== 1 || standbys.length !== 1)
    throw new Error(`an inventory needs exactly one parent and one standby (got ${parents.length} and ${standbys.length})`);
  const [parent, standby] = [parents[0], standbys[0]];
  return {
    version: 1,
    provider: spec.provider,
    cluster: spec.clusterName,
    region: spec.region,
    domain: spec.domain,
    recordFqdn: spec.recordFqdn,
    ttl: spec.ttl,
    primaryHostname: primaryHostname(spec),
    primary: parent.name,
    standby: standby.name,
    nodes,
    ssh: spec.ssh,
    dns: dnsTargetOf(spec, hostedZoneId),
    acme: spec.acme,
    syncReplication: spec.syncReplication,
  };
}

/**
 * The hosts target's inventory follows from its config alone: no machine is created. Only a hosts spec has one
 * (a cloud stack's inventory comes from its machines), so callers narrow first (`spec.provider === "hosts"`).
 */
export function hostsInventory(spec: HostsSpec): Inventory {
  const h = spec.hosts;
  const byName = new Map([...h.databases, ...h.children, h.worker].map((n) => [n.name, n]));
  const nodes = planNodes(spec).map((p): InventoryNode => {
    const host = byName.get(p.name);
    if (!host) throw new Error(`planned node ${p.name} is not among django-ha:hosts`);
    return {
      name: p.name,
      role: p.role,
      publicAddress: host.address,
      privateAddress: host.privateAddress,
      zone: host.zone,
      ...(host.dataDevices ? { dataDevices: host.dataDevices } : {}),
    };
  });
  return buildInventory(spec, nodes);
}

/** Members of the public round-robin record: the children, never the parent, standby or worker. */
export function recordMembers(inventory: Pick<Inventory, "nodes">): InventoryNode[] {
  return inventory.nodes.filter((n) => n.role === "child");
}

/** The database machines of an inventory (primary and standby), in inventory order. */
export function databaseNodes(inventory: Pick<Inventory, "nodes">): InventoryNode[] {
  return inventory.nodes.filter((n) => isDatabaseRole(n.role));
}

/**
 * The inventory with `name` as the primary: `primary`/`standby` and the two database machines' roles
 * swapped as needed; nothing else changes (addresses, order, volumes). The same inventory when `name` is
 * the primary already. Throws when `name` is not one of its two database machines. Pure: the input is not
 * changed.
 */
export function withPrimary(inventory: Inventory, name: string): Inventory {
  const databases = databaseNodes(inventory);
  if (
    databases.length !== 2 ||
    !databases.some((n) => n.name === inventory.primary) ||
    !databases.some((n) => n.name === inventory.standby)
  ) {
    throw new Error(
      `inventory of ${inventory.cluster} is inconsistent: it needs two database machines holding its primary ${JSON.stringify(inventory.primary)} and standby ${JSON.stringify(inventory.standby)}`,
    );
  }
  const target = databases.find((n) => n.name === name);
  if (!target) {
    throw new Error(
      `${JSON.stringify(name)} is not a database machine of ${inventory.cluster}; the primary must be ${databases.map((n) => JSON.stringify(n.name)).join(" or ")}`,
    );
  }
  if (inventory.primary === name) return inventory;
  // `name` is the standby (checked above): the old primary becomes the standby.
  return {
    ...inventory,
    primary: name,
    standby: inventory.primary,
    nodes: inventory.nodes.map((n) => (isDatabaseRole(n.role) ? { ...n, role: databaseRole(n.name, name) } : n)),
  };
}
