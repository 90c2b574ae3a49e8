import * as pulumi from "@pulumi/pulumi";
import type { RecordMember } from "../../ops/dns/types";
import type { ClusterSecrets as ClusterSecretValues } from "../../roles/types";
import { buildInventory, ClusterSpec, Inventory } from "../../model";
import { Bootstrap, bootstrapHaCluster, ClusterBootstrapArgs } from "../bootstrap";
import { ClusterPlan, planCluster } from "../plan";
import { createMachines, Machines } from "../providers";
import { ClusterSecrets } from "../secrets";

/** Args of {@link HaCluster}. */
export interface HaClusterArgs {
  /** The validated cluster spec (model/parse.ts `parseClusterSpec`): never raw config. */
  spec: ClusterSpec;
  /**
   * hosts target: the TSIG secret the scripts sign RFC 2136 updates with (`pulumi config set --secret
   * django-ha:dnsTsigSecret …`). Exported as the secret output `dnsUpdateKey`. Defaults to none.
   */
  dnsTsigSecret?: pulumi.Input<string>;
  /**
   * Bootstrap the machines over SSH on `pulumi up` (components/bootstrap): roles' plans applied by
   * ops/bootstrap, re-run when what they render changes. Defaults to none (run `npm run bootstrap` instead).
   */
  bootstrap?: Omit<ClusterBootstrapArgs, "spec" | "inventory" | "secrets">;
}

/** The key the scripts use to update the hosts target's record (RFC 2136 + TSIG). */
export interface DnsUpdateKey {
  name: string;
  algorithm: string;
  secret: string;
}

/**
 * A highly available Django cluster: private network, parent + synchronous standby (each with a DB and a
 * share volume), N children across zones behind a round-robin record, the video worker, firewalls, the
 * generated secrets and the inventory the scripts work from. Provider specifics live in
 * components/providers/<target>; this class only plans and composes.
 *
 * Extend it (e.g. the SSH bootstrap) from `inventory`, `secrets` and `machines`.
 */
export class HaCluster extends pulumi.ComponentResource {
  /** The pure plan everything below was created from. */
  public readonly plan: ClusterPlan;
  public readonly machines: Machines & pulumi.ComponentResource;
  public readonly secrets: pulumi.Output<ClusterSecretValues>;
  /** Complete inventory: every node's role, name, public/private address and zone; record; primary/standby. */
  public readonly inventory: pulumi.Output<Inventory>;
  /** The public record's members (children only) and their addresses. */
  public readonly recordMembers: pulumi.Output<RecordMember[]>;
  public readonly recordFqdn: pulumi.Output<string>;
  public readonly url: pulumi.Output<string>;
  /** hosts target: TSIG key for the record's RFC 2136 updates (secret). */
  public readonly dnsUpdateKey: pulumi.Output<DnsUpdateKey> | undefined;
  /** The SSH bootstrap of every node, when `args.bootstrap` is given. */
  public readonly bootstrap: Bootstrap | undefined;

  constructor(name: string, args: HaClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("django-ha:cluster:HaCluster", name, {}, opts);
    const { spec } = args;
    this.plan = planCluster(spec);
    this.secrets = new ClusterSecrets(`${name}-secrets`, {}, { parent: this }).values;
    this.machines = createMachines(`${name}-${spec.provider}`, { plan: this.plan }, { parent: this });
    this.inventory = pulumi
      .all([this.machines.nodes, this.machines.hostedZoneId])
      .apply(([nodes, zoneId]) => buildInventory(spec, nodes, zoneId));
    this.recordMembers = this.machines.recordMembers;
    this.recordFqdn = pulumi.output(spec.recordFqdn);
    this.url = pulumi.output(`https://${spec.recordFqdn}/`);
    const dns = spec.provider === "hosts" ? spec.dns : undefined;
    this.dnsUpdateKey =
      dns && args.dnsTsigSecret !== undefined
        ? pulumi.secret(
            pulumi
              .output(args.dnsTsigSecret)
              .apply((secret): DnsUpdateKey => ({ name: dns.tsigKeyName, algorithm: dns.tsigAlgorithm, secret })),
          )
        : undefined;
    this.bootstrap = args.bootstrap
      ? // After everything the target creates (volumes attached, firewalls and records in place), not just the machines.
        bootstrapHaCluster(
          `${name}-bootstrap`,
          { ...args.bootstrap, spec, inventory: this.inventory, secrets: this.secrets, machineIds: this.machines.machineIds },
          { parent: this, dependsOn: [this.machines] },
        )
      : undefined;
    this.registerOutputs({ inventory: this.inventory, recordFqdn: this.recordFqdn, url: this.url, secrets: this.secrets });
  }
}
