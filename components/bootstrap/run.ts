/**
 * What the Bootstrap dynamic provider runs inside `pulumi up` (loaded by path from the provider's methods,
 * so no import is captured in its serialized closure). Plain functions over plain inputs.
 */
import type { NodePlan } from "../../roles/types";
import type { Inventory } from "../../model";
import { bootstrapCluster } from "../../ops/bootstrap/bootstrapCluster";
import { formatSummary } from "../../ops/bootstrap/orchestrate";
import { KnownHostsFile } from "../../ops/ssh/known-hosts";

/** The dynamic resource's inputs, as the provider receives them. */
export interface BootstrapInputs {
  inventory: Inventory;
  plans: NodePlan[];
  privateKey: string;
  knownHostsPath: string;
  lockPath: string;
  concurrency: number;
  plansHash: string;
  /** node → the provider's id of its machine (droplet, instance); empty for existing hosts. */
  machineIds?: Record<string, string>;
  /** The app's health path (django-ha:app.healthPath) the certificate phase asks each child. */
  healthPath?: string;
}

/** The dynamic resource's outputs (no secrets: plans and key stay inputs, encrypted in state). */
export interface BootstrapOutputs {
  plansHash: string;
  /** node → public address the plan was applied to. */
  addresses: Record<string, string>;
  /** node → "no changes" | "N changes". */
  result: Record<string, string>;
  /** node → id of the machine the plan was applied to (what a later run compares to spot a replaced machine). */
  machineIds: Record<string, string>;
}

/** Nodes whose machine the stack replaced since the last run (same name, another provider id). Pure. */
export function replacedNodes(previous: Partial<BootstrapOutputs> | undefined, inputs: Pick<BootstrapInputs, "machineIds">): string[] {
  const before = previous?.machineIds ?? {};
  const now = inputs.machineIds ?? {};
  return Object.keys(now)
    .filter((n) => before[n] !== undefined && before[n] !== now[n])
    .sort();
}

/**
 * Apply every node's plan. `previous` is the last run's outputs: a node whose machine was replaced is a new
 * machine at a known address (an AWS Elastic IP survives the replacement), so its old pinned host key is
 * dropped and the new one pinned on first contact, as for the first machine.
 */
export async function applyBootstrap(
  inputs: BootstrapInputs,
  log: (line: string) => void,
  previous?: Partial<BootstrapOutputs>,
): Promise<BootstrapOutputs> {
  const replaced = replacedNodes(previous, inputs);
  if (replaced.length) {
    const port = inputs.inventory.ssh.port;
    const hosts = inputs.inventory.nodes
      .filter((n) => replaced.includes(n.name))
      .flatMap((n) => [n.publicAddress, previous?.addresses?.[n.name]].filter((h): h is string => !!h).map((host) => ({ host, port })));
    new KnownHostsFile(inputs.knownHostsPath).forget(hosts);
    for (const n of replaced)
      log(`${n}: a new machine (${previous?.machineIds?.[n]} → ${inputs.machineIds?.[n]}): its old pinned host key is dropped`);
  }
  const byName = new Map(inputs.plans.map((p) => [p.node.name, p]));
  const summary = await bootstrapCluster({
    inventory: inputs.inventory,
    planFor: (node) => {
      const plan = byName.get(node.name);
      if (!plan) throw new Error(`no plan for node ${node.name}: the Bootstrap resource's plans must cover every inventory node`);
      return plan;
    },
    privateKey: inputs.privateKey,
    knownHostsPath: inputs.knownHostsPath,
    lockPath: inputs.lockPath,
    concurrency: inputs.concurrency,
    ...(inputs.healthPath ? { healthPath: inputs.healthPath } : {}),
    log: (node, line) => log(`${node}: ${line}`),
  });
  // The error message is what `pulumi up` shows: node, step and output of every failure.
  if (!summary.ok) throw new Error(formatSummary(summary));
  return {
    plansHash: inputs.plansHash,
    addresses: Object.fromEntries(inputs.inventory.nodes.map((n) => [n.name, n.publicAddress])),
    result: Object.fromEntries(summary.results.map((r) => [r.node, r.status === "changed" ? `${r.changes.length} changes` : "no changes"])),
    machineIds: inputs.machineIds ?? {},
  };
}
