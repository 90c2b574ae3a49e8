import { ClusterSpec, primaryHostname, ProviderName } from "./schema";
import type { DataDevices } from "./volumes";

export const ROLES = ["parent", "standby", "child", "worker"] as const;
/** parent = the initial PostgreSQL primary and NFS server; standby = its synchronous replica. */
export type Role = (typeof ROLES)[number];

/** One machine of the cluster as planned from the spec, before any address is known. */
export interface PlannedNode {
  name: string;
  role: Role;
  zone: string;
  size: string;
  /** 1-based index among nodes of the same role. */
  index: number;
}

/**
 * Plan the machines of a cluster: names, roles, zones and sizes. Pure.
 * Parent in zones[0], standby in zones[1] (when there are several), children spread round-robin over all
 * zones starting with the standby's so that losing the parent's zone keeps the most children,
 * worker in the parent's zone (it needs the share most).
 */
export function planNodes(spec: ClusterSpec): PlannedNode[] {
  if (spec.hosts) {
    const h = spec.hosts;
    return [
      { name: h.parent.name, role: "parent", zone: h.parent.zone, size: spec.sizes.parent, index: 1 },
      { name: h.standby.name, role: "standby", zone: h.standby.zone, size: spec.sizes.standby, index: 1 },
      ...h.children.map((c, i): PlannedNode => ({ name: c.name, role: "child", zone: c.zone, size: spec.sizes.child, index: i + 1 })),
      { name: h.worker.name, role: "worker", zone: h.worker.zone, size: spec.sizes.worker, index: 1 },
    ];
  }
  const zones = spec.zones;
  const zoneAt = (i: number) => zones[i % zones.length];
  const nodes: PlannedNode[] = [
    { name: `${spec.clusterName}-parent`, role: "parent", zone: zoneAt(0), size: spec.sizes.parent, index: 1 },
    { name: `${spec.clusterName}-standby`, role: "standby", zone: zoneAt(1), size: spec.sizes.standby, index: 1 },
  ];
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
   * parent and standby: stable device paths of the DB and share volumes, which the bootstrap formats when
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
      const d = spec.dns!;
      return { kind: "rfc2136", server: d.server, port: d.port, zone: d.zone, keyName: d.tsigKeyName, algorithm: d.tsigAlgorithm };
    }
    default: {
      const never: never = spec.provider;
      throw new Error(`unknown provider ${String(never)}`);
    }
  }
}

/** Assemble an inventory from planned nodes and their addresses. Pure. */
export function buildInventory(spec: ClusterSpec, nodes: InventoryNode[], hostedZoneId?: string): Inventory {
  const parent = nodes.find((n) => n.role === "parent");
  const standby = nodes.find((n) => n.role === "standby");
  if (!parent || !standby) throw new Error("an inventory needs a parent and a standby");
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

/** The hosts target's inventory follows from its config alone: no machine is created. */
export function hostsInventory(spec: ClusterSpec): Inventory {
  if (!spec.hosts) throw new Error("hostsInventory needs a hosts spec");
  const h = spec.hosts;
  const byName = new Map([h.parent, h.standby, ...h.children, h.worker].map((n) => [n.name, n]));
  const nodes = planNodes(spec).map((p): InventoryNode => {
    const host = byName.get(p.name)!;
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
