import * as pulumi from "@pulumi/pulumi";
import type { RecordMember } from "../../ops/dns/types";
import type { InventoryNode } from "../../spec";
import type { ClusterPlan } from "../plan";

/** What every target gets from HaCluster: the plan (nodes, firewall, record) it must realise. */
export interface MachinesArgs {
  plan: ClusterPlan;
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
}

/** The inventory rows of created machines: the plan's name, role and zone with the addresses the cloud assigned. */
export function inventoryNodesOf(
  planned: readonly { name: string; role: InventoryNode["role"]; zone: string }[],
  created: readonly { publicAddress: pulumi.Input<string>; privateAddress: pulumi.Input<string> }[],
): pulumi.Output<InventoryNode[]> {
  return pulumi.all(
    created.map((r, i) =>
      pulumi.all([r.publicAddress, r.privateAddress]).apply(([publicAddress, privateAddress]): InventoryNode => ({
        name: planned[i].name,
        role: planned[i].role,
        publicAddress,
        privateAddress,
        zone: planned[i].zone,
      })),
    ),
  );
}
