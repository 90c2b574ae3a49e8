import * as pulumi from "@pulumi/pulumi";
import type { RecordMember } from "../../ops/dns/types";
import type { ClusterSpec, DataDevices, InventoryNode } from "../../model";
import type { ClusterPlan } from "../plan";

/** What every target gets from HaCluster: the plan (nodes, firewall, record) it must realise. */
export interface MachinesArgs<S extends ClusterSpec = ClusterSpec> {
  plan: ClusterPlan<S>;
}

/**
 * The small "machines" interface: one implementation per target (components/providers/<target>).
 * It creates (or, for hosts, describes) the machines, their network, firewall and the public record.
 */
export interface Machines {
  /** Every node of the plan with its addresses, in plan order. */
  readonly nodes: pulumi.Output<InventoryNode[]>;
  /** The public record's members (children only) with the addresses published (hosts: to be published by the scripts). */
  readonly recordMembers: pulumi.Output<RecordMember[]>;
  /** aws: the Route 53 hosted zone holding the record; other targets: undefined. */
  readonly hostedZoneId: pulumi.Output<string | undefined>;
  /**
   * node → the provider's id of its machine (droplet id, EC2 instance id), so a machine the stack replaced is
   * bootstrapped again even at the same address; hosts: none (the machines are not the stack's).
   */
  readonly machineIds: pulumi.Output<Record<string, string>>;
}

/** The created resource of the planned node `name` (same order as the plan); throws if the plan has no such node. */
export function createdNode<T>(planned: readonly { name: string }[], created: readonly T[], name: string): T {
  const i = planned.findIndex((n) => n.name === name);
  if (i < 0 || i >= created.length) throw new Error(`no created machine for planned node ${name}`);
  return created[i];
}

/** The machine ids of created machines, by the plan's node names (same order). */
export function machineIdsOf(
  planned: readonly { name: string }[],
  ids: readonly pulumi.Input<string>[],
): pulumi.Output<Record<string, string>> {
  return pulumi.all(ids.map((id) => pulumi.output(id))).apply((values) => Object.fromEntries(planned.map((n, i) => [n.name, values[i]])));
}

/** The inventory rows of created machines: the plan's name, role and zone with the addresses the cloud assigned. */
export function inventoryNodesOf(
  planned: readonly { name: string; role: InventoryNode["role"]; zone: string }[],
  created: readonly {
    publicAddress: pulumi.Input<string>;
    privateAddress: pulumi.Input<string>;
    dataDevices: pulumi.Input<DataDevices | undefined>;
  }[],
): pulumi.Output<InventoryNode[]> {
  return pulumi.all(
    created.map((r, i) =>
      pulumi
        .all([r.publicAddress, r.privateAddress, r.dataDevices])
        .apply(([publicAddress, privateAddress, dataDevices]): InventoryNode => ({
          name: planned[i].name,
          role: planned[i].role,
          publicAddress,
          privateAddress,
          zone: planned[i].zone,
          ...(dataDevices ? { dataDevices } : {}),
        })),
    ),
  );
}

/** The node's DataDevices from its volumes (in args order) and their device paths; undefined unless both a db and a share volume exist. */
export function dataDevicesOf(
  volumes: readonly { purpose: "db" | "share" }[],
  devices: pulumi.Output<string>[],
): pulumi.Output<DataDevices | undefined> {
  return pulumi.all(devices).apply((paths) => {
    const db = paths[volumes.findIndex((v) => v.purpose === "db")];
    const share = paths[volumes.findIndex((v) => v.purpose === "share")];
    return db && share ? { db, share } : undefined;
  });
}
