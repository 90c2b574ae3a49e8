/**
 * What the Bootstrap dynamic provider runs inside `pulumi up` (loaded by path from the provider's methods,
 * so no import is captured in its serialized closure). Plain functions over plain inputs.
 */
import type { NodePlan } from "../../roles/types";
import type { Inventory } from "../../spec";
import { bootstrapCluster } from "../../ops/bootstrap/cluster";
import { formatSummary } from "../../ops/bootstrap/orchestrate";

/** The dynamic resource's inputs, as the provider receives them. */
export interface BootstrapInputs {
  inventory: Inventory;
  plans: NodePlan[];
  privateKey: string;
  knownHostsPath: string;
  lockPath: string;
  concurrency: number;
  plansHash: string;
}

/** The dynamic resource's outputs (no secrets: plans and key stay inputs, encrypted in state). */
export interface BootstrapOutputs {
  plansHash: string;
  /** node → public address the plan was applied to. */
  addresses: Record<string, string>;
  /** node → "no changes" | "N changes". */
  result: Record<string, string>;
}

export async function applyBootstrap(inputs: BootstrapInputs, log: (line: string) => void): Promise<BootstrapOutputs> {
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
    log: (node, line) => log(`${node}: ${line}`),
  });
  // The error message is what `pulumi up` shows: node, step and output of every failure.
  if (!summary.ok) throw new Error(formatSummary(summary));
  return {
    plansHash: inputs.plansHash,
    addresses: Object.fromEntries(inputs.inventory.nodes.map((n) => [n.name, n.publicAddress])),
    result: Object.fromEntries(summary.results.map((r) => [r.node, r.status === "changed" ? `${r.changes.length} changes` : "no changes"])),
  };
}
