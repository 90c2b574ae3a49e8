/**
 * rollback: the previous (or a named) release goes live on every child at once (a link and a chain reload, nothing
 * built), then the worker and `current`. No migration runs.
 */
import pLimit from "p-limit";
import { APP_USER } from "../../roles/context";
import { CELERY_UNIT } from "../../roles/worker";
import { RELEASE_PATHS } from "../../roles/release";
import { UserError } from "../../model/errors";
import { setShareCurrent } from "./commands/share";
import { switchWorker } from "./commands/switch";
import { childrenAndWorker, MINUTE, Nodes, type ReleaseRunBase, seconds, statusOn, StepError } from "./nodes";
import { releaseDir, rollbackTarget } from "./release";
import { switchChildArgv } from "./switch";
import type { ReleaseApp } from "./types";

export interface RollbackOptions extends ReleaseRunBase {
  app: ReleaseApp;
  to?: string;
  dryRun?: boolean;
  confirm: (question: string) => Promise<boolean>;
  /** Seconds each child gets to serve the release. Defaults to 30. */
  timeoutSeconds?: number;
}

export interface RollbackResult {
  from?: string;
  to: string;
  ok: boolean;
  dryRun?: boolean;
  /** Per child: from the link's move to health naming the release, in ms. */
  childMs: Record<string, number>;
  failures: { node: string; step: string; output: string }[];
  /** Until every child served the release. */
  liveMs: number;
  totalMs: number;
}

/**
 * Make the previous (or the named) release live: every child switches at once (a link and a chain reload:
 * nothing is downloaded or built), then the worker, then `current`. No migration runs: schema changes stay
 * (the expand/contract rule in docs/releases.md keeps the older release working on them).
 */
export async function rollback(o: RollbackOptions): Promise<RollbackResult> {
  const started = Date.now();
  const { children, worker } = childrenAndWorker(o.inventory);
  const nodes = new Nodes(o);
  const timeout = o.timeoutSeconds ?? 30;
  try {
    const status = await statusOn(nodes, worker);
    const to = rollbackTarget({ releases: status.releases, current: status.shareCurrent, to: o.to });
    const from = status.shareCurrent;
    o.log("rollback", `${from ?? "(no current release)"} → ${to}`);
    if (o.dryRun) {
      for (const c of children)
        o.log("plan", `${c.name}: ${RELEASE_PATHS.nodeCurrent} → ${to}, chain-reload uWSGI, ${o.app.healthPath} names ${to}`);
      o.log("plan", `${worker.name}: ${RELEASE_PATHS.nodeCurrent} → ${to}${o.app.celeryApp ? ", warm-restart Celery" : ""}`);
      o.log("plan", `share: ${RELEASE_PATHS.shareCurrent} → ${to}`);
      return { from, to, ok: true, dryRun: true, childMs: {}, failures: [], liveMs: 0, totalMs: Date.now() - started };
    }
    if (
      !(await o.confirm(
        `Roll cluster ${o.inventory.cluster} back from ${from ?? "(none)"} to ${to} on ${children.length} child${children.length === 1 ? "" : "ren"}?`,
      ))
    ) {
      throw new UserError("Not confirmed: nothing was changed.");
    }
    const t0 = Date.now();
    const childMs: Record<string, number> = {};
    const failures: RollbackResult["failures"] = [];
    const limit = pLimit(8);
    await Promise.all(
      children.map((c) =>
        limit(async () => {
          const t = Date.now();
          try {
            await nodes.run(c, `switch to ${to}`, switchChildArgv(o.app, o.inventory, to, timeout), (timeout + 30) * 1000);
            childMs[c.name] = Date.now() - t;
            o.log(c.name, `serves ${to} (${seconds(childMs[c.name])})`);
          } catch (err) {
            if (!(err instanceof StepError)) throw err;
            failures.push({ node: err.node, step: err.step, output: err.output });
            o.log(c.name, `FAILED: ${err.step}`);
          }
        }),
      ),
    );
    const liveMs = Date.now() - t0;
    if (failures.length) return { from, to, ok: false, childMs, failures, liveMs, totalMs: Date.now() - started };
    const w = await nodes.run(
      worker,
      `switch the worker to ${to}`,
      switchWorker(RELEASE_PATHS.nodeCurrent, releaseDir(to), to, o.app.celeryApp ? CELERY_UNIT : "", 30),
      5 * MINUTE,
    );
    o.log(worker.name, `Celery: ${/celery=(\w+)/.exec(w)?.[1] ?? "unknown"}`);
    await nodes.run(
      worker,
      "point releases/current at the release",
      setShareCurrent(RELEASE_PATHS.shareCurrent, to, APP_USER.name),
      MINUTE,
    );
    return { from, to, ok: true, childMs, failures, liveMs, totalMs: Date.now() - started };
  } finally {
    await nodes.close();
  }
}
