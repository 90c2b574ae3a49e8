import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { NodePlan } from "../../roles/types";
import type { Inventory } from "../../model";
import { plansHash } from "../../ops/bootstrap/hash";
import { stackStateDir } from "../../ops/bootstrap/stack";
import { stackLockPath } from "../../ops/lock";
import { bootstrapProvider } from "./provider";

/** Args of {@link Bootstrap}. */
export interface BootstrapArgs {
  /** The cluster's inventory (HaCluster.inventory). */
  inventory: pulumi.Input<Inventory>;
  /** Every node's plan (roles' renderNodePlan); they contain secrets and are kept secret in state. */
  plans: pulumi.Input<NodePlan[]>;
  /** Text of the OpenSSH private key the machines authorize (e.g. `config.requireSecret("sshPrivateKey")`). */
  privateKey: pulumi.Input<string>;
  /** known_hosts that pins the machines' host keys. Defaults to .django-ha/<stack>/known_hosts. */
  knownHostsPath?: pulumi.Input<string>;
  /** node → the provider's id of its machine: a replaced machine re-runs the bootstrap. Defaults to none (existing hosts). */
  machineIds?: pulumi.Input<Record<string, string>>;
  /** Nodes bootstrapped at once. Defaults to 4. */
  concurrency?: pulumi.Input<number>;
  /** The app's health path the certificate phase asks each child (django-ha:app.healthPath). Defaults to "/health/". */
  healthPath?: pulumi.Input<string>;
}

/** The dynamic resource's inputs: plans and key secret, the plans' content hash beside them (exported for tests). */
export function bootstrapRunProps(args: BootstrapArgs, stack: string): Record<string, pulumi.Input<unknown>> {
  const stateDir = stackStateDir(stack);
  const plans = pulumi.output(args.plans);
  return {
    inventory: args.inventory,
    plans: pulumi.secret(plans),
    // Shown in diffs even though the plans are secret: a SHA-256 over plans that carry 32-character random
    // passwords reveals nothing about them.
    plansHash: pulumi.unsecret(plans.apply((p) => plansHash(p))),
    privateKey: pulumi.secret(args.privateKey),
    knownHostsPath: args.knownHostsPath ?? path.join(stateDir, "known_hosts"),
    // The stack lock the CLI bootstrap and the failover hold too: `pulumi up` never bootstraps during a failover.
    lockPath: stackLockPath(stateDir),
    concurrency: args.concurrency ?? 4,
    machineIds: args.machineIds ?? {},
    healthPath: args.healthPath ?? "/health/",
    // Outputs the provider fills in.
    addresses: undefined,
    result: undefined,
  };
}

/** The dynamic resource that does the work (type `pulumi-nodejs:dynamic/bootstrap:Run`). */
export class BootstrapRun extends pulumi.dynamic.Resource {
  /** Hash of everything the plans put on the machines: a new value means the bootstrap ran again. */
  declare public readonly plansHash: pulumi.Output<string>;
  /** node → address the plan was applied to. */
  declare public readonly addresses: pulumi.Output<Record<string, string>>;
  /** node → "no changes" | "N changes" of the last run. */
  declare public readonly result: pulumi.Output<Record<string, string>>;
  /** node → id of the machine the last run applied to. */
  declare public readonly machineIds: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: BootstrapArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      bootstrapProvider,
      name,
      bootstrapRunProps(args, pulumi.getStack()),
      { ...opts, additionalSecretOutputs: ["plans", "privateKey"] },
      "bootstrap",
      "Run",
    );
  }
}

/**
 * Runs the SSH bootstrap (ops/bootstrap) on `pulumi up`. It re-runs when the content hash of all
 * rendered plans (uploads by their directory content), a node's address or a node's machine (replaced by
 * the provider) changes; otherwise `pulumi up`
 * leaves the machines alone. A failed node fails the update with the node, the step and its output.
 */
export class Bootstrap extends pulumi.ComponentResource {
  public readonly plansHash: pulumi.Output<string>;
  public readonly addresses: pulumi.Output<Record<string, string>>;
  public readonly result: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: BootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super("django-ha:bootstrap:Bootstrap", name, {}, opts);
    // The component's dependsOn, given to the resource that does the work too: it must not start before them.
    const run = new BootstrapRun(`${name}-run`, args, { parent: this, dependsOn: opts?.dependsOn });
    this.plansHash = run.plansHash;
    this.addresses = run.addresses;
    this.result = run.result;
    this.registerOutputs({ plansHash: this.plansHash, addresses: this.addresses, result: this.result });
  }
}
