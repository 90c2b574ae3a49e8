/**
 * The failover runbook: emergency (the primary is gone) and planned (switchover while both are healthy).
 * Every step prints live with the run's elapsed time; the journal makes a re-run finish an interrupted
 * failover; targeted SSH commands run in parallel (no full bootstrap on the fast path). The steps live in
 * assess.ts (read only), fence.ts, promote.ts and finish.ts; this file opens the run and runs them in order.
 */
import { FAILOVER_NO_STANDBY_CONF } from "../../roles/guard";
import { UserError } from "../../model/errors";
import { withPrimary } from "../../model";
import { situationStep, standbyStep } from "./assess";
import { type FailoverContext, seconds } from "./context";
import { failoverSteps } from "./decide";
import { drainStep, fenceStep } from "./fence";
import { oldPrimaryStep, syncStep, verifyStep } from "./finish";
import { Journal } from "./journal";
import { newPrimaryAndRepointSteps, promoteStep, reconnectStep, recordStep } from "./promote";
import type { FailoverOptions, FailoverResult } from "./types";

export type { FailoverOptions, FailoverResult } from "./types";

/**
 * The conf.d file the failover writes on a new primary without a standby (sorts after the bootstrap's
 * django-ha.conf); the boot guard reads it as "the peer was fenced by this failover" (roles/guard/).
 */
export const NO_STANDBY_OVERRIDE = FAILOVER_NO_STANDBY_CONF;

/** The context of a run: from the journal of an interrupted run when there is one, else from the inventory. */
function openRun(o: FailoverOptions): FailoverContext {
  const t0 = Date.now();
  const print = o.log ?? ((l) => process.stdout.write(`${l}\n`));
  const existing = Journal.open(o.journalFile);
  if (existing && existing.data.kind !== o.kind) {
    throw new UserError(
      `An ${existing.data.kind} failover of stack ${o.stack} (${existing.data.from} → ${existing.data.to}, started ${existing.data.startedAt}) did not finish: ` +
        `finish it first with npm run failover -- --stack ${o.stack}${existing.data.kind === "planned" ? " --planned" : ""}. Journal: ${o.journalFile}`,
    );
  }
  const from = existing?.data.from ?? o.inventory.primary;
  const to = existing?.data.to ?? o.inventory.standby;
  const byName = new Map(o.inventory.nodes.map((n) => [n.name, n]));
  const oldNode = byName.get(from);
  const newNode = byName.get(to);
  if (!oldNode || !newNode)
    throw new UserError(
      `The journal names ${from} → ${to}, but the inventory of stack ${o.stack} has ${[...byName.keys()].join(", ")}. Move ${o.journalFile} away if it belongs to another cluster.`,
    );
  return {
    o,
    t0,
    log: (line) => print(`[${seconds(Date.now() - t0).padStart(7)}] ${line}`),
    from,
    to,
    oldNode,
    newNode,
    target: withPrimary(o.inventory, to),
    steps: failoverSteps(o.kind, from, to, o.fence),
    execs: new Map(),
    unreachable: { ...(existing?.data.unreachable ?? {}) },
    members: [],
    journal: existing,
    summary: [],
    recorded: true,
    alreadyPrimary: false,
  };
}

/** Connect to everyone but the old primary (a few attempts each); emergency tries the old primary in the situation step. */
async function connectAll(ctx: FailoverContext): Promise<void> {
  const { o, from, execs, unreachable } = ctx;
  await Promise.all(
    o.inventory.nodes.map(async (n) => {
      // Emergency: the old primary is tried in the situation step, without holding up everyone else here.
      if (n.name === from && o.kind === "emergency") return;
      try {
        execs.set(n.name, await o.connect(n, false));
        delete unreachable[n.name];
      } catch (e) {
        unreachable[n.name] = (e as Error).message.split("\n")[0];
      }
    }),
  );
  ctx.members = o.inventory.nodes.filter((n) => n.name !== from && execs.has(n.name));
  const failed = Object.entries(unreachable);
  ctx.log(
    `connected to ${[...execs.keys()].join(", ") || "no node"}${failed.length ? `; unreachable: ${failed.map(([n, e]) => `${n} (${e})`).join("; ")}` : ""}`,
  );
}

/** The point of no return: ask, then start the journal (a resumed run asked before). */
async function confirmAndJournal(ctx: FailoverContext): Promise<Journal> {
  const { o, from, to } = ctx;
  if (!ctx.journal) {
    const fence = ctx.steps.find((s) => s.name === "fence");
    const question =
      o.kind === "emergency"
        ? `Fence ${from} (${fence?.title}) and promote ${to} to primary of stack ${o.stack}?`
        : `Switch the primary of stack ${o.stack} from ${from} to ${to} (writes stop for a few seconds; ${from} becomes the standby)?`;
    if (!(await o.confirm(question))) throw new UserError("Nothing changed.");
    ctx.journal = Journal.start(o.journalFile, { kind: o.kind, stack: o.stack, from, to });
    ctx.log(`journal ${o.journalFile}`);
  }
  for (const [n, why] of Object.entries(ctx.unreachable)) ctx.journal.noteUnreachable(n, why);
  return ctx.journal;
}

/** Every step in order; the connections are closed whatever happens. */
async function runSteps(ctx: FailoverContext): Promise<void> {
  try {
    await situationStep(ctx);
    await standbyStep(ctx);
    await confirmAndJournal(ctx);
    await fenceStep(ctx);
    await drainStep(ctx);
    await promoteStep(ctx);
    await recordStep(ctx);
    await newPrimaryAndRepointSteps(ctx);
    await reconnectStep(ctx);
    await oldPrimaryStep(ctx);
    await syncStep(ctx);
    await verifyStep(ctx);
  } finally {
    await Promise.all([...ctx.execs.values()].map((e) => e.close().catch(() => {})));
  }
}

/** The closing summary (what was done, what is left, the total time) and the result; the journal is finished when all is recorded. */
function finishRun(ctx: FailoverContext): FailoverResult {
  const { o, from, to, unreachable, summary, promotedAfter } = ctx;
  const total = (Date.now() - ctx.t0) / 1000;
  const reachLater = Object.keys(unreachable).filter((n) => n !== from);
  summary.unshift(
    `${o.kind} failover of stack ${o.stack}: ${to} is the primary${o.kind === "planned" ? `, ${from} its standby` : `; ${from} is ${o.fence.kind === "none" ? "NOT fenced" : "fenced"}`}` +
      (promotedAfter !== undefined ? `; promoted ${promotedAfter.toFixed(1)} s after the start` : ""),
  );
  if (o.kind === "emergency")
    summary.push(
      `No standby now: commits are on ${to} only (synchronous_standby_names is empty through ${NO_STANDBY_OVERRIDE}). ` +
        (o.rejoinCommand
          ? `Make ${from} the new standby when it can be started: ${o.rejoinCommand}`
          : `Making ${from} the new standby (rejoin) is not built into this version yet: keep ${from} off; docs/failover.md says what to do by hand.`),
    );
  if (reachLater.length)
    summary.push(
      `Not done on ${reachLater.map((n) => `${n} (${unreachable[n]})`).join(", ")}: when they are back, run npm run bootstrap -- --stack ${o.stack} --only ${reachLater.join(",")}`,
    );
  let journalPath: string | undefined;
  if (ctx.recorded && ctx.journal) journalPath = ctx.journal.finish();
  else if (ctx.journal) summary.push(`The journal ${o.journalFile} stays: run the same command again to finish (each step is idempotent).`);
  summary.push(`total ${total.toFixed(1)} s`);
  for (const l of summary) ctx.log(l);
  const complete = ctx.recorded && reachLater.length === 0;
  return { kind: o.kind, from, to, complete, promotedAfter, seconds: total, unreachable, summary, journal: journalPath };
}

/** Run a failover (or print its plan with dryRun). */
export async function runFailover(o: FailoverOptions): Promise<FailoverResult> {
  const ctx = openRun(o);
  const { from, to, journal: existing } = ctx;
  ctx.log(
    `${o.kind} failover of stack ${o.stack}: ${from} → ${to}${existing ? ` (resuming the run of ${existing.data.startedAt}; done: ${Object.keys(existing.data.done).join(", ") || "nothing"})` : ""}`,
  );
  if (o.dryRun) {
    ctx.steps.forEach((s, i) => ctx.log(`  ${i + 1}. ${s.title}${existing?.isDone(s.name) ? "  (done)" : ""}`));
    ctx.log("dry run: nothing was contacted or changed");
    return { kind: o.kind, from, to, complete: false, seconds: (Date.now() - ctx.t0) / 1000, unreachable: {}, summary: [] };
  }
  await connectAll(ctx);
  await runSteps(ctx);
  return finishRun(ctx);
}
