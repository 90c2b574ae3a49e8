import type { Check, NodePlan } from "../../roles/types";
import type { RemoteExecutor } from "../ssh/executor";
import { combined, describeAction, lastLines, NodeRun, runAction, StepFailure, TIMEOUTS } from "./actions";
import * as cmd from "./commands";

export { StepFailure } from "./actions";

/** What happened on one node. */
/** What a node's step failure says: the step, its exit code (when it ran) and its output. */
export interface NodeFailure {
  step: string;
  code?: number;
  output: string;
}

/** One node's result; what a failed or skipped node carries is on its own branch. */
export type NodeResult = {
  node: string;
  role: string;
  /** One entry per step that changed the machine, e.g. `file /etc/hosts`, `service nginx: restart`. */
  changes: string[];
  durationMs: number;
} & (
  | { status: "changed" | "unchanged" }
  /** The step that failed and why. */
  | { status: "failed"; failure: NodeFailure }
  /** Why it did not run. */
  | { status: "skipped"; skippedBecause: string }
);

export interface ApplyOptions {
  /** One progress line per step, already without the node prefix (the caller labels it). */
  log?: (line: string) => void;
  /** Pause between check attempts. Defaults to 2 s. */
  checkIntervalMs?: number;
  /**
   * Compare only (`--diff`): report what WOULD change, change nothing. Scripts are not run (what they
   * would do is unknown until they run) and checks are skipped. Defaults to false.
   */
  readOnly?: boolean;
}

/** Name of a step as progress and reports show it. */
export const stepName = describeAction;

/** Run a check until it passes or its attempts are spent; the attempt that passed. */
async function runCheck(exec: RemoteExecutor, c: Check, intervalMs: number): Promise<number> {
  const attempts = c.attempts ?? 15;
  let last = "";
  for (let i = 1; i <= attempts; i++) {
    const r = await exec.run(cmd.runCheck(c.script), { timeoutMs: TIMEOUTS.short });
    if (r.code === 0) return i;
    last = lastLines(combined(r)) || `exit ${r.code}`;
    if (i < attempts) await new Promise((res) => setTimeout(res, intervalMs));
  }
  throw new StepFailure(`check ${c.name}`, `failed ${attempts} attempt${attempts === 1 ? "" : "s"}; last output:\n${last}`);
}

/** Where a node's run is: the step under way (named when it fails) and the changes made so far. */
interface Progress {
  step: string;
  changes: string[];
}

/** Apply (or diff) the actions in order (recording changes in `current`), then reload units still unread and run the checks. */
async function applySteps(run: NodeRun, plan: NodePlan, options: ApplyOptions, current: Progress): Promise<void> {
  const { changes } = current;
  const readOnly = options.readOnly ?? false;
  for (const a of plan.actions) {
    run.position++;
    current.step = describeAction(a);
    const t0 = Date.now();
    const change = await runAction(a, run, readOnly);
    if (change) changes.push(change);
    run.log(`${change ?? current.step}: ${change ? (readOnly ? "differs" : "changed") : "ok"} (${Date.now() - t0} ms)`);
  }
  if (readOnly) return;
  // A unit file changed after the last service action: systemd still has to read it.
  await run.reloadUnitsIfNeeded("systemctl daemon-reload");
  for (const c of plan.checks) {
    current.step = `check ${c.name}`;
    const t0 = Date.now();
    const attempt = await runCheck(run.exec, c, options.checkIntervalMs ?? 2000);
    run.log(`check ${c.name}: healthy${attempt > 1 ? ` after ${attempt} attempts` : ""} (${Date.now() - t0} ms)`);
  }
}

/**
 * Apply one node's plan in order over an executor, then run its checks. Never throws for a failing
 * step: the result names the step, exit code and output. Idempotent when the plan's actions are.
 */
export async function applyPlan(exec: RemoteExecutor, plan: NodePlan, options: ApplyOptions = {}): Promise<NodeResult> {
  const run = new NodeRun(exec, options.log);
  const started = Date.now();
  const current: Progress = { step: "start", changes: [] };
  const base = () => ({ node: plan.node.name, role: plan.role, changes: current.changes, durationMs: Date.now() - started });
  try {
    await applySteps(run, plan, options, current);
    return { ...base(), status: current.changes.length ? "changed" : "unchanged" };
  } catch (err) {
    const failure: NodeFailure =
      err instanceof StepFailure
        ? { step: err.step, code: err.code, output: err.output }
        : { step: current.step, output: (err as Error).message ?? String(err) };
    run.log(`${failure.step}: FAILED${failure.code === undefined ? "" : ` (exit ${failure.code})`}`);
    return { ...base(), status: "failed", failure };
  }
}
