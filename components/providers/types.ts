import type * as pulumi from "@pulumi/pulumi";
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
