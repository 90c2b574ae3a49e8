import pLimit from "p-limit";
import type { NodePlan } from "../../roles/types";
import type { InventoryNode, Role } from "../../model";
import type { RemoteExecutor } from "../ssh/executor";
import { applyPlan, NodeResult } from "./apply";
import type { CertificatePhaseResult } from "./certificate";
import { formatCertificatePhase } from "./certificate";
import { validatePlans } from "./validate";

/** When a node may start and what it needs to have succeeded. */
export interface NodeOrder {
  /** Nodes that must have finished (either way) before this one starts. */
  after: string[];
  /** Nodes whose failure means this one is skipped. */
  dependsOn: string[];
}

/**
 * The bootstrap order. Parent first; the standby after the parent (it replicates from it); the worker after
 * both; children after the worker (it builds the first release they start on), in parallel. A failure stops
 * only what needs the failed node: the standby, children and worker need the parent; nothing needs the standby;
 * children do not need each other, nor the worker once a release exists (without one they fail saying so).
 * Nodes outside the run (`--only`) count as done. Pure.
 */
export function bootstrapOrder(nodes: readonly { name: string; role: Role }[]): Map<string, NodeOrder> {
  const named = (role: Role) => nodes.filter((n) => n.role === role).map((n) => n.name);
  const parents = named("parent");
  const standbys = named("standby");
  const workers = named("worker");
  const order = new Map<string, NodeOrder>();
  for (const n of nodes) {
    switch (n.role) {
      case "parent":
        order.set(n.name, { after: [], dependsOn: [] });
        break;
      case "standby":
        order.set(n.name, { after: parents, dependsOn: parents });
        break;
      case "worker":
        order.set(n.name, { after: [...parents, ...standbys], dependsOn: parents });
        break;
      case "child":
        order.set(n.name, { after: [...parents, ...standbys, ...workers], dependsOn: parents });
        break;
      default: {
        const never: never = n.role;
        throw new Error(`unknown role ${String(never)}`);
      }
    }
  }
  return order;
}

export interface BootstrapRunOptions {
  plans: NodePlan[];
  /** Open the (one) connection to a node. Called once per node that runs; closed by the bootstrap. */
  connect: (node: InventoryNode) => Promise<RemoteExecutor>;
  /** Nodes at once. Defaults to 4 (sshd MaxStartups, and apt on small machines). */
  concurrency?: number;
  /** Live progress: one line per step, labelled with the node. */
  log?: (node: string, line: string) => void;
  /** Pause between check attempts. Defaults to 2 s. */
  checkIntervalMs?: number;
  /** Only compare and report what would change (`--diff`); see ApplyOptions.readOnly. Defaults to false. */
  readOnly?: boolean;
}

export interface BootstrapSummary {
  ok: boolean;
  /** A `--diff` run: "changes" are differences, nothing was changed. */
  readOnly?: boolean;
  /** In plan order. */
  results: NodeResult[];
  /** The certificate phase after every role converged (ops/bootstrap/certificate.ts); absent when it did not run. */
  certificate?: CertificatePhaseResult;
  durationMs: number;
}

/**
 * Bootstrap every node of the plans in dependency order, in parallel where the order allows.
 * Plans are validated for all nodes first (nothing is touched if any is wrong). Never throws for a
 * node's failure: the summary says which node, which step and what it printed.
 */
export async function runBootstrap(options: BootstrapRunOptions): Promise<BootstrapSummary> {
  validatePlans(options.plans);
  const started = Date.now();
  const log = options.log ?? (() => {});
  const limit = pLimit(options.concurrency ?? 4);
  const order = bootstrapOrder(options.plans.map((p) => ({ name: p.node.name, role: p.role })));
  const running = new Map<string, Promise<NodeResult>>();

  const runNode = (plan: NodePlan): Promise<NodeResult> => {
    const existing = running.get(plan.node.name);
    if (existing) return existing;
    const p = (async (): Promise<NodeResult> => {
      const o = order.get(plan.node.name);
      if (!o) throw new Error(`bootstrap order has no entry for ${plan.node.name} (bootstrapOrder covers every plan)`);
      const byName = new Map(options.plans.map((q) => [q.node.name, q]));
      const before = await Promise.all(o.after.flatMap((n) => byName.get(n) ?? []).map(runNode));
      const blocked = before.filter((r) => o.dependsOn.includes(r.node) && (r.status === "failed" || r.status === "skipped"));
      if (blocked.length) {
        const why = blocked.map((b) => `${b.node} ${b.status === "failed" ? `failed at ${b.failure?.step}` : "was skipped"}`).join("; ");
        log(plan.node.name, `skipped: needs ${why}`);
        return { node: plan.node.name, role: plan.role, status: "skipped", changes: [], skippedBecause: `needs ${why}`, durationMs: 0 };
      }
      return limit(() => applyNode(plan, options, log));
    })();
    running.set(plan.node.name, p);
    return p;
  };

  const results = await Promise.all(options.plans.map(runNode));
  return {
    ok: results.every((r) => r.status === "changed" || r.status === "unchanged"),
    readOnly: options.readOnly,
    results,
    durationMs: Date.now() - started,
  };
}

async function applyNode(plan: NodePlan, options: BootstrapRunOptions, log: (node: string, line: string) => void): Promise<NodeResult> {
  const name = plan.node.name;
  const started = Date.now();
  log(name, `connecting to ${plan.node.publicAddress}`);
  let exec: RemoteExecutor;
  try {
    exec = await options.connect(plan.node);
  } catch (err) {
    const output = (err as Error).message ?? String(err);
    log(name, `connect: FAILED`);
    return {
      node: name,
      role: plan.role,
      status: "failed",
      changes: [],
      failure: { step: "connect", output },
      durationMs: Date.now() - started,
    };
  }
  try {
    const r = await applyPlan(exec, plan, {
      log: (line) => log(name, line),
      checkIntervalMs: options.checkIntervalMs,
      readOnly: options.readOnly,
    });
    const changed = options.readOnly ? `${r.changes.length} differ` : `${r.changes.length} changed`;
    log(
      name,
      r.status === "failed"
        ? `failed after ${seconds(r.durationMs)}`
        : `${r.status === "changed" ? changed : "no changes"} in ${seconds(r.durationMs)}`,
    );
    return { ...r, durationMs: Date.now() - started };
  } finally {
    await exec.close().catch(() => {});
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The end-of-run report: one block per node (changes, "no changes", the failing step with its output, or why skipped). */
export function formatSummary(summary: BootstrapSummary): string {
  const width = Math.max(...summary.results.map((r) => r.node.length), 4);
  const lines: string[] = [];
  for (const r of summary.results) {
    const label = r.node.padEnd(width);
    switch (r.status) {
      case "unchanged":
        lines.push(`${label}  no changes (${seconds(r.durationMs)})`);
        break;
      case "changed":
        lines.push(
          summary.readOnly
            ? `${label}  ${r.changes.length} difference${r.changes.length === 1 ? "" : "s"} (${seconds(r.durationMs)}):`
            : `${label}  ${r.changes.length} change${r.changes.length === 1 ? "" : "s"} (${seconds(r.durationMs)}):`,
        );
        for (const c of r.changes) lines.push(`${" ".repeat(width)}    - ${c}`);
        break;
      case "failed":
        lines.push(`${label}  FAILED at ${r.failure.step}${r.failure.code === undefined ? "" : ` (exit ${r.failure.code})`}:`);
        for (const l of (r.failure.output || "(no output)").split("\n")) lines.push(`${" ".repeat(width)}    | ${l}`);
        break;
      case "skipped":
        lines.push(`${label}  skipped: ${r.skippedBecause}`);
        break;
    }
  }
  if (summary.certificate) lines.push(...formatCertificatePhase(summary.certificate));
  const failed = summary.results.filter((r) => r.status === "failed").length;
  const skipped = summary.results.filter((r) => r.status === "skipped").length;
  const verb = summary.readOnly ? "diff (nothing changed)" : "bootstrap";
  const certificateFailed = summary.certificate && !summary.certificate.ok ? ", certificate phase failed" : "";
  const verdict = summary.ok ? `${verb} finished` : `${verb} FAILED (${failed} failed, ${skipped} skipped${certificateFailed})`;
  lines.push(`${verdict}: ${summary.results.length} node${summary.results.length === 1 ? "" : "s"} in ${seconds(summary.durationMs)}`);
  return lines.join("\n");
}
