import * as pulumi from "@pulumi/pulumi";
import type { RecordMember } from "../../../ops/dns/types";
import { hostsInventory, InventoryNode, recordMembers, type HostsSpec } from "../../../model";
import type { Machines, MachinesArgs } from "../types";

/** Args of {@link HostsMachines}. */
export type HostsMachinesArgs = MachinesArgs<HostsSpec>;

/**
 * The hosts target: machines that exist already (bare metal, another cloud, the lab). Creates nothing:
 * the inventory follows from the config, and the round-robin record is set through RFC 2136 by the
 * scripts (ops/dns), so in the Pulumi graph it is data only.
 */
export class HostsMachines extends pulumi.ComponentResource implements Machines {
  public readonly nodes: pulumi.Output<InventoryNode[]>;
  public readonly recordMembers: pulumi.Output<RecordMember[]>;
  public readonly hostedZoneId: pulumi.Output<string | undefined>;
  public readonly machineIds: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: HostsMachinesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("django-ha:hosts:Machines", name, {}, opts);
    const inventory = hostsInventory(args.plan.spec);
    this.nodes = pulumi.output(inventory.nodes);
    this.recordMembers = pulumi.output(recordMembers(inventory).map((n) => ({ name: n.name, address: n.publicAddress })));
    this.hostedZoneId = pulumi.output(undefined as string | undefined);
    this.machineIds = pulumi.output<Record<string, string>>({});
    this.registerOutputs({ nodes: this.nodes, recordMembers: this.recordMembers });
  }
}
