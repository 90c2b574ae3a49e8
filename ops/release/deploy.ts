/**
 * deploy: build and migrate once, switch the children one at a time behind a health gate, then the worker and
 * `current`; a child that fails puts every switched child back and the release is marked failed.
 */
import { APP_USER } from "../../roles/context";
import { CELERY_UNIT } from "../../roles/worker";
import { APP_ENV_FILES } from "../../roles/app";
import { RELEASE_HEADER, RELEASE_PATHS, WSGI_LOADER_MODULE } from "../../roles/release";
import { UserError } from "../../model/errors";
import type { Inventory, InventoryNode } from "../../model";
import { buildOn, type BuildResult } from "./build";
import { candidateHealth, parsePrevious, switchWorker } from "./commands/switch";
import { markFailed, pruneReleases, setShareCurrent } from "./commands/share";
import { childrenAndWorker, MINUTE, Nodes, type ReleaseRunBase, seconds, statusOn, StepError } from "./nodes";
import { packSource } from "./pack";
import { childrenToRevert, deployPlan, describeStep, releaseDir, releaseId, releasesToPrune, reusableRelease } from "./release";
import { switchChildArgv } from "./switch";
import type { ReleaseApp } from "./types";

export interface DeployOptions extends ReleaseRunBase {
  app: ReleaseApp;
  /** --ref: a git source's ref. */
  ref?: string;
  dryRun?: boolean;
  /** Asked once, before anything changes; false = stop. */
  confirm: (question: string) => Promise<boolean>;
  /** Seconds a child's candidate and its switched uWSGI get to prove the release healthy. Defaults to 90. */
  healthTimeoutSeconds?: number;
  /** Seconds to wait for Celery's warm restart (a running job finishes first). Defaults to 60. */
  celeryWaitSeconds?: number;
  /** Releases kept. Defaults to 5. */
  keep?: number;
}

export type DeployResult = DeployOutcome & {
  id: string;
  dryRun?: boolean;
  /** Children put back on their previous release after a failure. */
  reverted: string[];
  build?: BuildResult;
  /** Per child: candidate + switch + health, in ms. */
  childMs: Record<string, number>;
  celery?: string;
  pruned: string[];
  totalMs: number;
};

/** A deploy went live, or it was rolled back and says why (the release stays on the share, marked failed). */
export type DeployOutcome = { ok: true } | { ok: false; failure: { node: string; step: string; output: string } };

/**
 * Build, migrate, then switch the children one at a time, each proven healthy on the new release before the
 * next; then the worker's Celery; then `current`; then keep the last releases. A child that does not prove
 * the release healthy puts every switched child back on the release it ran, marks the release failed, and the
 * result says why.
 */
export async function deploy(o: DeployOptions): Promise<DeployResult> {
  const started = Date.now();
  const { children, worker } = childrenAndWorker(o.inventory);
  const packed = packSource(o.app.source, o.ref);
  const nodes = new Nodes(o);
  try {
    const status = o.dryRun ? undefined : await statusOn(nodes, worker);
    const reuse = status ? reusableRelease(status.releases, packed.sourceHash) : undefined;
    const id = reuse ?? releaseId(new Date(), packed.sourceHash);
    const plan = deployPlan({ children: children.map((c) => c.name), worker: worker.name, reuse: !!reuse, celery: !!o.app.celeryApp });
    if (o.dryRun) {
      o.log(
        "plan",
        `release ${id} from ${packed.facts.source}${packed.facts.ref ? ` ref ${packed.facts.ref} (${packed.facts.commit?.slice(0, 12)})` : ""}`,
      );
      plan.forEach((s, i) => o.log("plan", `${i + 1}. ${describeStep(s, id)}`));
      return { id, ok: true, dryRun: true, reverted: [], childMs: {}, pruned: [], totalMs: Date.now() - started };
    }
    const current = status?.shareCurrent;
    if (current === id) o.log("deploy", `${id} is the current release already: switching every node to it again`);
    if (
      !(await o.confirm(
        `Deploy release ${id} (${packed.facts.source}) to ${children.length} child${children.length === 1 ? "" : "ren"} of cluster ${o.inventory.cluster}${current ? `, replacing ${current}` : ""}?`,
      ))
    ) {
      throw new UserError("Not confirmed: nothing was changed.");
    }
    const build = await buildOn(nodes, o, { worker, app: o.app, packed, id, reuse: !!reuse });
    const switched = await switchChildren(nodes, o, children, id);
    if ("failure" in switched) {
      const { failure, reverted } = await failed(nodes, o, { worker, id, ...switched });
      return { id, ok: false, failure, reverted, build, childMs: switched.childMs, pruned: [], totalMs: Date.now() - started };
    }
    const { celery, pruned } = await finishOnWorker(nodes, o, worker, id);
    return { id, ok: true, reverted: [], build, childMs: switched.childMs, celery, pruned, totalMs: Date.now() - started };
  } finally {
    packed.cleanup();
    await nodes.close();
  }
}

type Switched = { node: InventoryNode; previous?: string }[];

/**
 * One child at a time: a candidate proves the release healthy, then the child's link moves and uWSGI chain-reloads,
 * proven through nginx. Stops at the first child that fails, with what had switched.
 */
async function switchChildren(
  nodes: Nodes,
  o: DeployOptions,
  children: InventoryNode[],
  id: string,
): Promise<{ childMs: Record<string, number> } | { childMs: Record<string, number>; switched: Switched; failure: StepError }> {
  const timeout = o.healthTimeoutSeconds ?? 90;
  const switched: Switched = [];
  const childMs: Record<string, number> = {};
  for (const child of children) {
    const t0 = Date.now();
    try {
      o.log(child.name, `candidate uWSGI on ${id}: ${o.app.healthPath} must answer 200 (not in service)`);
      await nodes.run(child, `candidate health of ${id}`, candidate(o.app, o.inventory, id, timeout), (timeout + 30) * 1000);
      o.log(child.name, `switch to ${id}, chain-reload uWSGI, wait for every worker and ${o.app.healthPath} through nginx`);
      const exec = await nodes.get(child);
      const r = await exec.run(switchChildArgv(o.app, o.inventory, id, timeout), { timeoutMs: (timeout + 30) * 1000 });
      switched.push({ node: child, previous: parsePrevious(r.stdout) });
      if (r.code !== 0)
        throw new StepError(child.name, `switch to ${id}`, [r.stdout.trimEnd(), r.stderr.trimEnd()].filter(Boolean).join("\n"));
      childMs[child.name] = Date.now() - t0;
      o.log(child.name, `serves ${id} (${seconds(childMs[child.name])})`);
    } catch (err) {
      if (!(err instanceof StepError)) throw err;
      o.log(child.name, `FAILED: ${err.step}`);
      return { childMs, switched, failure: err };
    }
  }
  return { childMs };
}

/** A child did not prove the release healthy: every switched child goes back, the release is marked failed. */
async function failed(
  nodes: Nodes,
  o: DeployOptions,
  f: { worker: InventoryNode; id: string; switched: Switched; failure: StepError },
): Promise<{ failure: Extract<DeployOutcome, { ok: false }>["failure"]; reverted: string[] }> {
  const failure = { node: f.failure.node, step: f.failure.step, output: f.failure.output };
  const reverted = await revert(nodes, o, f.switched, f.id);
  await nodes
    .run(
      f.worker,
      "mark the release failed",
      markFailed(releaseDir(f.id), APP_USER.name, `${failure.node}: ${failure.step}\n${failure.output}`),
      MINUTE,
    )
    .catch(() => undefined);
  return { failure, reverted };
}

/** Every child serves the release: the worker (and its Celery) switches, `current` moves, old releases go. */
async function finishOnWorker(
  nodes: Nodes,
  o: DeployOptions,
  worker: InventoryNode,
  id: string,
): Promise<{ celery: string; pruned: string[] }> {
  o.log(worker.name, `switch to ${id}${o.app.celeryApp ? ", warm-restart Celery (its running job finishes first)" : ""}`);
  const w = await nodes.run(
    worker,
    `switch the worker to ${id}`,
    switchWorker(RELEASE_PATHS.nodeCurrent, releaseDir(id), id, o.app.celeryApp ? CELERY_UNIT : "", o.celeryWaitSeconds ?? 60),
    5 * MINUTE + (o.celeryWaitSeconds ?? 60) * 1000,
  );
  const celery = /celery=(\w+)/.exec(w)?.[1] ?? "unknown";
  o.log(
    worker.name,
    celery === "finishing" ? `Celery still finishes its running job; it starts on ${id} right after (no job is lost)` : `Celery: ${celery}`,
  );
  await nodes.run(worker, "point releases/current at the release", setShareCurrent(RELEASE_PATHS.shareCurrent, id, APP_USER.name), MINUTE);
  const after = await statusOn(nodes, worker);
  const prune = releasesToPrune({
    releases: after.releases,
    live: [id, ...(after.shareCurrent ? [after.shareCurrent] : [])],
    keep: o.keep,
    now: new Date(),
  });
  if (prune.length) {
    await nodes.run(
      worker,
      "delete old releases",
      pruneReleases(RELEASE_PATHS.releases, RELEASE_PATHS.buildLock, APP_USER.name, prune),
      10 * MINUTE,
    );
    o.log(worker.name, `deleted ${prune.length} old release${prune.length === 1 ? "" : "s"}: ${prune.join(", ")}`);
  }
  return { celery, pruned: prune };
}

function candidate(app: ReleaseApp, inventory: Inventory, id: string, timeout: number): readonly string[] {
  return candidateHealth({
    releaseDir: releaseDir(id),
    id,
    wsgiModule: app.wsgiModule,
    settingsModule: app.settingsModule,
    healthPath: app.healthPath,
    host: inventory.recordFqdn,
    timeoutSeconds: timeout,
    user: APP_USER.name,
    libDir: RELEASE_PATHS.libDir,
    header: RELEASE_HEADER,
    loaderModule: WSGI_LOADER_MODULE,
    envFiles: APP_ENV_FILES,
  });
}
/** Put switched children back on the release each ran before (newest switch first). */
async function revert(
  nodes: Nodes,
  o: DeployOptions,
  switched: { node: InventoryNode; previous?: string }[],
  failedId: string,
): Promise<string[]> {
  const done: string[] = [];
  const order = childrenToRevert(
    switched.map((s) => s.node.name),
    undefined,
  );
  const byName = new Map(switched.map((s) => [s.node.name, s]));
  for (const s of order.flatMap((name) => byName.get(name) ?? [])) {
    const name = s.node.name;
    if (!s.previous) {
      o.log(name, `ran no release before ${failedId}: left on it (nothing to go back to)`);
      continue;
    }
    o.log(name, `back to ${s.previous}`);
    await nodes.run(
      s.node,
      `switch back to ${s.previous}`,
      switchChildArgv(o.app, o.inventory, s.previous, o.healthTimeoutSeconds ?? 90),
      3 * MINUTE,
    );
    o.log(name, `serves ${s.previous} again`);
    done.push(name);
  }
  return done;
}
