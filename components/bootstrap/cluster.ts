import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { renderNodePlan } from "../../roles";
import type { ClusterSecrets, NodePlan, ShareMount } from "../../roles/types";
import type { ClusterSpec, Inventory } from "../../spec";
import { Bootstrap } from "./bootstrap";

/** Args of {@link bootstrapHaCluster}. */
export interface ClusterBootstrapArgs {
  spec: ClusterSpec;
  /** HaCluster.inventory. */
  inventory: pulumi.Input<Inventory>;
  /** HaCluster.secrets. */
  secrets: pulumi.Input<ClusterSecrets>;
  /** Text of the OpenSSH private key the machines authorize (secret config). */
  privateKey: pulumi.Input<string>;
  /** Django project to deploy. Defaults to this repository's app/. */
  appDir?: string;
  /** How children and the worker see the share. Defaults to "nfs". */
  shareMount?: ShareMount;
  /** known_hosts for pinning. Defaults to .django-ha/<stack>/known_hosts. */
  knownHostsPath?: pulumi.Input<string>;
  /** node → the provider's machine id (Machines.machineIds): a replaced machine is bootstrapped again. */
  machineIds?: pulumi.Input<Record<string, string>>;
}

/** Every node's plan, rendered by roles/ from the resolved inventory and secrets. Pure. */
export function renderPlans(spec: ClusterSpec, inventory: Inventory, secrets: ClusterSecrets, appDir: string, shareMount: ShareMount): NodePlan[] {
  const ctx = { inventory, secrets, shareMount, appDir, adminCidrs: spec.adminCidrs };
  return inventory.nodes.map((n) => renderNodePlan(n, ctx));
}

/** The Bootstrap resource of a cluster: renders the plans (secret) and applies them on `pulumi up`. */
export function bootstrapHaCluster(name: string, args: ClusterBootstrapArgs, opts?: pulumi.ComponentResourceOptions): Bootstrap {
  const appDir = args.appDir ?? path.resolve(__dirname, "..", "..", "app");
  const plans = pulumi
    .all([args.inventory, args.secrets])
    .apply(([inventory, secrets]) => renderPlans(args.spec, inventory, secrets, appDir, args.shareMount ?? "nfs"));
  return new Bootstrap(name, { inventory: args.inventory, plans: pulumi.secret(plans), privateKey: args.privateKey, knownHostsPath: args.knownHostsPath, machineIds: args.machineIds }, opts);
}
