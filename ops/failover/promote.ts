/** The steps that make the standby the primary and point the cluster at it: promote, record, its services, the name, reconnect. */
import pLimit from "p-limit";
import { renderHostsBlock } from "../../roles/files/hosts";
import { hostsBlockScript } from "../../roles/scripts";
import { DB, PATHS, PORTS } from "../../roles/context";
import { REDIS_CONF } from "../../roles/db";
import { UWSGI_UNIT } from "../../roles/child";
import { FAILOVER_NO_STANDBY_CONF } from "../../roles/guard";
import { CELERY_UNIT } from "../../roles/worker";
import { CHANGED_MARKER } from "../../roles/types";
import type { InventoryNode } from "../../model";
import { changesOf } from "./commands/program";
import { newPrimaryServices, promote } from "./commands/promotion";
import { reconnectChild, reconnectWorker, runRendered } from "./commands/repoint";
import { execOf, type FailoverContext, seconds, step } from "./context";
import { must } from "./must";

/** The nodes the run repoints: every reachable node but the old primary. */
export const othersOf = (ctx: FailoverContext): InventoryNode[] =>
  ctx.o.inventory.nodes.filter((n) => n.name !== ctx.from && ctx.execs.has(n.name));

/** The "promote" step (pg_promote, checked). */
export function promoteStep(ctx: FailoverContext): Promise<void> {
  return step(ctx, "promote", async () => {
    const out = await must(execOf(ctx, ctx.to), promote(), "promoting");
    ctx.promotedAfter = (Date.now() - ctx.t0) / 1000;
    return [
      /already=1/.test(out) || ctx.alreadyPrimary
        ? `${ctx.to} was already the primary`
        : `${ctx.to} is the primary (${seconds(Date.now() - ctx.t0)} after the start)`,
    ];
  });
}

/** The "record" step. Not recording must not stop the repointing: the cluster comes first, the record is retried by a re-run. */
export async function recordStep(ctx: FailoverContext): Promise<void> {
  await step(ctx, "record", async () => {
    try {
      return [await ctx.o.record(ctx.to)];
    } catch (e) {
      ctx.recorded = false;
      throw e;
    }
  }).catch((e: Error) => {
    ctx.log(`✗ record: ${e.message}`);
    ctx.summary.push(`NOT RECORDED: ${e.message}`);
  });
}

/** Point one node's primary name at the new primary; a failure is noted, not thrown. */
async function repointNode(ctx: FailoverContext, n: InventoryNode, script: string): Promise<string> {
  const { o, newNode } = ctx;
  try {
    const r = await execOf(ctx, n.name).run(runRendered(script), { timeoutMs: 20_000 });
    if (r.code !== 0) throw new Error((r.stderr || r.stdout).trim().split("\n").pop());
    return `${n.name}: ${o.inventory.primaryHostname} → ${newNode.privateAddress}${r.stdout.split("\n").includes(CHANGED_MARKER) ? "" : " (already)"}`;
  } catch (e) {
    ctx.unreachable[n.name] = (e as Error).message;
    ctx.journal?.noteUnreachable(n.name, (e as Error).message);
    return `${n.name}: FAILED (${(e as Error).message})`;
  }
}

/** The new primary's services ("new-primary") and the primary name on every node ("repoint"), in parallel. */
export async function newPrimaryAndRepointSteps(ctx: FailoverContext): Promise<void> {
  const block = renderHostsBlock({ entries: [{ address: ctx.newNode.privateAddress, names: [ctx.o.inventory.primaryHostname] }] });
  const script = hostsBlockScript(block).script;
  const limit = pLimit(16);
  await Promise.all([
    step(ctx, "new-primary", async () => {
      const out = await must(
        execOf(ctx, ctx.to),
        newPrimaryServices({ overrideFile: FAILOVER_NO_STANDBY_CONF, slot: DB.slot, redisConf: REDIS_CONF, redisPort: PORTS.redis }),
        "starting the primary's services",
      );
      const changes = changesOf(out);
      return [changes.length ? `changed: ${changes.join(", ")}` : "already in place"];
    }),
    step(ctx, "repoint", () => Promise.all(othersOf(ctx).map((n) => limit(() => repointNode(ctx, n, script))))),
  ]);
}

/** Make the app (children) and Celery (worker) of one node reconnect to the new primary. */
async function reconnectNode(ctx: FailoverContext, n: InventoryNode): Promise<string> {
  const dbHosts = [ctx.newNode.privateAddress, ctx.oldNode.privateAddress];
  const argv =
    n.role === "child"
      ? reconnectChild(PATHS.share, UWSGI_UNIT, PATHS.appEnv, dbHosts)
      : reconnectWorker(PATHS.share, CELERY_UNIT, PATHS.appEnv, dbHosts);
  const r = await execOf(ctx, n.name)
    .run(argv, { timeoutMs: 30_000 })
    .catch((e: Error) => ({ code: -1, stdout: "", stderr: e.message }));
  if (r.code !== 0) {
    ctx.unreachable[n.name] = r.stderr.trim().split("\n").pop() ?? "failed";
    return `${n.name}: FAILED (${ctx.unreachable[n.name]})`;
  }
  const changes = changesOf(r.stdout);
  return `${n.name}: ${changes.join(", ") || "nothing running to reconnect"}`;
}

/** The "reconnect" step: the children and the worker. */
export function reconnectStep(ctx: FailoverContext): Promise<void> {
  const clients = othersOf(ctx).filter((n) => n.role === "child" || n.role === "worker");
  return step(ctx, "reconnect", () => Promise.all(clients.map((n) => reconnectNode(ctx, n))));
}
