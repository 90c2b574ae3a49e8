/**
 * What the steps of one failover run share: the options, the two database machines, the connections,
 * what could not be reached, the journal and the summary. Each step (assess.ts, fence.ts, promote.ts,
 * finish.ts) is a function of this context; runFailover (run.ts) runs them in order.
 */
import type { Inventory, InventoryNode } from "../../model";
import type { RemoteExecutor } from "../ssh/executor";
import { parsePgStatus, type PgStatus, pgStatus } from "./commands/database";
import type { StepInfo } from "./decide";
import type { Journal } from "./journal";
import { must } from "./must";
import type { FailoverOptions } from "./types";

export interface FailoverContext {
  readonly o: FailoverOptions;
  /** Logs a line prefixed with the run's elapsed time. */
  readonly log: (line: string) => void;
  readonly t0: number;
  /** The old primary and the new one (the standby). */
  readonly from: string;
  readonly to: string;
  readonly oldNode: InventoryNode;
  readonly newNode: InventoryNode;
  /** The inventory as it is after the failover (`to` the primary). */
  readonly target: Inventory;
  readonly steps: StepInfo[];
  /** Open connections by node name. */
  readonly execs: Map<string, RemoteExecutor>;
  /** Node → why it could not be reached (or a step failed on it). */
  readonly unreachable: Record<string, string>;
  /** The nodes other than the old primary that were reachable when the run connected. */
  members: InventoryNode[];
  /** Started at the point of no return (or the interrupted run's). */
  journal: Journal | undefined;
  readonly summary: string[];
  promotedAfter?: number;
  /** The new primary is recorded in the stack (false when recording failed). */
  recorded: boolean;
  /** The standby was already the primary (an interrupted run promoted it). */
  alreadyPrimary: boolean;
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function pgStatusOf(ex: RemoteExecutor): Promise<PgStatus> {
  return parsePgStatus(await must(ex, pgStatus(), "reading the PostgreSQL status", 15_000));
}

/** The connection to a node the run holds (every caller checked it is reachable). */
export function execOf(ctx: FailoverContext, node: string): RemoteExecutor {
  const ex = ctx.execs.get(node);
  if (!ex) throw new Error(`no connection to ${node}`);
  return ex;
}

/**
 * Run one step of the plan: skipped when this kind of failover has no such step or the earlier run did
 * it; its lines are logged, and the journal marks it done.
 */
export async function step(ctx: FailoverContext, name: string, fn: () => Promise<string[] | void>): Promise<void> {
  const info = ctx.steps.find((s) => s.name === name);
  if (!info) return;
  if (ctx.journal?.isDone(info.name)) {
    ctx.log(`= ${info.name}: done by the earlier run`);
    return;
  }
  const s = Date.now();
  ctx.log(`▶ ${info.name}: ${info.title}`);
  const lines = (await fn()) ?? [];
  for (const l of lines) ctx.log(`    ${l}`);
  ctx.journal?.markDone(info.name);
  ctx.log(`✓ ${info.name} (${seconds(Date.now() - s)})`);
}
