/**
 * deploy, rollback and maintenance over SSH: one connection per node, a progress line per node and step,
 * the fixed programs of commands.ts, the decisions of release.ts. The scripts (scripts/deploy.ts, …) add the
 * CLI, the stack lock and the confirmation; the bootstrap's first release calls buildAndMigrate.
 */
import pLimit from "p-limit";
import { APP_USER, PATHS, PORTS } from "../../roles/context";
import { UWSGI_UNIT } from "../../roles/child";
import { CELERY_UNIT } from "../../roles/worker";
import { APP_ENV_FILES } from "../../roles/app";
import { RELEASE_HEADER, RELEASE_PATHS, WSGI_LOADER_MODULE } from "../../roles/release";
import { TLS_PATHS } from "../../roles/tls";
import { UserError } from "../../model/errors";
import type { Inventory, InventoryNode } from "../../model";
import type { RemoteExecutor } from "../ssh/executor";
import * as cmd from "./commands";
import { packSource, type PackedSource } from "./pack";
import {
  childrenToRevert,
  deployPlan,
  describeStep,
  releaseDir,
  releaseId,
  releasesToPrune,
  reusableRelease,
  rollbackTarget,
} from "./release";
import type { ReleaseApp } from "./types";

const MINUTE = 60_000;

export interface ReleaseRunBase {
  inventory: Inventory;
  /** SSH to a node (pinned host keys); each node is connected once per run. */
  connect: (node: InventoryNode) => Promise<RemoteExecutor>;
  /** Progress: `node │ line`. */
  log: (node: string, line: string) => void;
}

/** Connections of one run, opened on first use, all closed by close(). */
class Nodes {
  private open = new Map<string, Promise<RemoteExecutor>>();
  constructor(private readonly o: ReleaseRunBase) {}
  get(node: InventoryNode): Promise<RemoteExecutor> {
    let p = this.open.get(node.name);
    if (!p) {
      p = this.o.connect(node);
      this.open.set(node.name, p);
    }
    return p;
  }
  async run(node: InventoryNode, step: string, argv: readonly string[], timeoutMs: number): Promise<string> {
    const exec = await this.get(node);
    const r = await exec.run(argv, { timeoutMs });
    const out = [r.stdout.trimEnd(), r.stderr.trimEnd()].filter(Boolean).join("\n");
    if (r.code !== 0) throw new StepError(node.name, step, out || `exit ${r.code}`);
    return r.stdout;
  }
  async close(): Promise<void> {
    await Promise.all([...this.open.values()].map((p) => p.then((e) => e.close()).catch(() => undefined)));
  }
}

/** A step that failed on a node: what the run reports. */
export class StepError extends Error {
  constructor(
    readonly node: string,
    readonly step: string,
    readonly output: string,
  ) {
    super(
      `${node}: ${step} failed:\n${output
        .split("\n")
        .map((l) => `  | ${l}`)
        .join("\n")}`,
    );
  }
}

function roles(inventory: Inventory): { children: InventoryNode[]; worker: InventoryNode } {
  const children = inventory.nodes.filter((n) => n.role === "child");
  const worker = inventory.nodes.find((n) => n.role === "worker");
  if (!worker) throw new UserError(`The inventory of cluster ${inventory.cluster} has no worker: releases are built on the worker.`);
  if (children.length === 0)
    throw new UserError(`The inventory of cluster ${inventory.cluster} has no child: there is nothing to run a release on.`);
  return { children, worker };
}

const statusPaths: cmd.StatusPaths = {
  releases: RELEASE_PATHS.releases,
  nodeCurrent: RELEASE_PATHS.nodeCurrent,
  shareCurrent: RELEASE_PATHS.shareCurrent,
  maintenanceFlag: RELEASE_PATHS.maintenanceFlag,
  readOnlyFlag: RELEASE_PATHS.readOnlyFlag,
};

async function statusOn(nodes: Nodes, node: InventoryNode): Promise<cmd.ReleaseStatus> {
  return cmd.parseReleaseStatus(await nodes.run(node, "read the releases on the share", cmd.releaseStatus(statusPaths), MINUTE));
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

// --------------------------------------------------------------------------------------------- build

export interface BuildResult {
  id: string;
  reused: boolean;
  buildMs: number;
  migrateMs: number;
}

/** What one build needs: the worker, the app, its packed source, the release id, and whether it is built already. */
interface BuildInput {
  worker: InventoryNode;
  app: ReleaseApp;
  packed: PackedSource;
  id: string;
  reuse: boolean;
}

/** Upload the packed source to the worker, build the release there (or reuse a finished one), migrate once. */
async function buildOn(nodes: Nodes, o: ReleaseRunBase, b: BuildInput): Promise<BuildResult> {
  const { worker, app, packed, id, reuse } = b;
  const t0 = Date.now();
  if (!reuse) {
    const exec = await nodes.get(worker);
    const tarball = `${RELEASE_PATHS.incoming}/release-${id}.tar.gz`;
    o.log(worker.name, `upload the source (${packed.facts.source}${packed.facts.commit ? ` ${packed.facts.commit.slice(0, 12)}` : ""})`);
    await exec.putFile(packed.tarball, tarball);
    o.log(
      worker.name,
      `build ${id}: venv, requirements${app.requirements ? ` (${app.requirements} from ${app.pythonIndexUrl})` : " (none)"}, collectstatic`,
    );
    const out = await nodes.run(
      worker,
      `build ${id}`,
      cmd.buildRelease({
        releases: RELEASE_PATHS.releases,
        id,
        tarball,
        requirements: app.requirements ?? "",
        pythonIndexUrl: app.pythonIndexUrl,
        settingsModule: app.settingsModule,
        facts: packed.facts,
        buildLock: RELEASE_PATHS.buildLock,
        staticRoot: PATHS.static,
        user: APP_USER.name,
        log: `/var/log/django-ha/release-${id}.log`,
        envFiles: APP_ENV_FILES,
      }),
      30 * MINUTE,
    );
    o.log(worker.name, `${/build=reused/.test(out) ? "already built" : "built"} ${id} (${seconds(Date.now() - t0)})`);
  } else {
    o.log(worker.name, `${id} holds this source already: nothing to build`);
  }
  const buildMs = Date.now() - t0;
  const t1 = Date.now();
  o.log(worker.name, `migrate with ${id} (once, under the migration lock)`);
  const out = await nodes.run(
    worker,
    `migrate with ${id}`,
    cmd.migrate(releaseDir(id), app.settingsModule, RELEASE_PATHS.migrateLock, APP_USER.name, APP_ENV_FILES),
    30 * MINUTE,
  );
  const last = out.trim().split("\n").pop() ?? "";
  o.log(worker.name, `migrate: ${last.trim() || "done"} (${seconds(Date.now() - t1)})`);
  return { id, reused: reuse, buildMs, migrateMs: Date.now() - t1 };
}

export interface FirstReleaseOptions extends ReleaseRunBase {
  app: ReleaseApp;
}

/**
 * The bootstrap's app step: when the share has no current release, build the first one from the stack's app
 * and migrate — the deploy's own build path — and make it `current`, which new nodes start on. Returns the id,
 * or undefined when a release is current already (later releases come from `npm run deploy`).
 */
export async function firstRelease(o: FirstReleaseOptions): Promise<{ id: string; built: boolean; ms: number }> {
  const started = Date.now();
  const { worker } = roles(o.inventory);
  const nodes = new Nodes(o);
  try {
    const status = await statusOn(nodes, worker);
    if (status.shareCurrent && status.releases.some((r) => r.id === status.shareCurrent && r.ready)) {
      o.log(worker.name, `release ${status.shareCurrent} is current: deploy new ones with npm run deploy`);
      return { id: status.shareCurrent, built: false, ms: Date.now() - started };
    }
    const packed = packSource(o.app.source);
    try {
      const reuse = reusableRelease(status.releases, packed.sourceHash);
      const id = reuse ?? releaseId(new Date(), packed.sourceHash);
      await buildOn(nodes, o, { worker, app: o.app, packed, id, reuse: !!reuse });
      await nodes.run(worker, "point releases/current at it", cmd.setShareCurrent(RELEASE_PATHS.shareCurrent, id, APP_USER.name), MINUTE);
      o.log(worker.name, `first release ${id} is current`);
      return { id, built: true, ms: Date.now() - started };
    } finally {
      packed.cleanup();
    }
  } finally {
    await nodes.close();
  }
}

// -------------------------------------------------------------------------------------------- deploy

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
  const { children, worker } = roles(o.inventory);
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
      switched.push({ node: child, previous: cmd.parsePrevious(r.stdout) });
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
      cmd.markFailed(releaseDir(f.id), APP_USER.name, `${failure.node}: ${failure.step}\n${failure.output}`),
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
    cmd.switchWorker(RELEASE_PATHS.nodeCurrent, releaseDir(id), id, o.app.celeryApp ? CELERY_UNIT : "", o.celeryWaitSeconds ?? 60),
    5 * MINUTE + (o.celeryWaitSeconds ?? 60) * 1000,
  );
  const celery = /celery=(\w+)/.exec(w)?.[1] ?? "unknown";
  o.log(
    worker.name,
    celery === "finishing" ? `Celery still finishes its running job; it starts on ${id} right after (no job is lost)` : `Celery: ${celery}`,
  );
  await nodes.run(
    worker,
    "point releases/current at the release",
    cmd.setShareCurrent(RELEASE_PATHS.shareCurrent, id, APP_USER.name),
    MINUTE,
  );
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
      cmd.pruneReleases(RELEASE_PATHS.releases, RELEASE_PATHS.buildLock, APP_USER.name, prune),
      10 * MINUTE,
    );
    o.log(worker.name, `deleted ${prune.length} old release${prune.length === 1 ? "" : "s"}: ${prune.join(", ")}`);
  }
  return { celery, pruned: prune };
}

function candidate(app: ReleaseApp, inventory: Inventory, id: string, timeout: number): readonly string[] {
  return cmd.candidateHealth({
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

function switchChildArgv(app: ReleaseApp, inventory: Inventory, id: string, timeout: number): readonly string[] {
  return cmd.switchChild({
    link: RELEASE_PATHS.nodeCurrent,
    releaseDir: releaseDir(id),
    id,
    unit: UWSGI_UNIT,
    statsSocket: RELEASE_PATHS.uwsgiStats,
    healthPath: app.healthPath,
    fqdn: inventory.recordFqdn,
    httpsPort: PORTS.https,
    fullchain: TLS_PATHS.fullchain,
    selfSigned: TLS_PATHS.selfSigned,
    timeoutSeconds: timeout,
    header: RELEASE_HEADER,
    staticRoot: PATHS.static,
    user: APP_USER.name,
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

// ------------------------------------------------------------------------------------------ rollback

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
  const { children, worker } = roles(o.inventory);
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
      cmd.switchWorker(RELEASE_PATHS.nodeCurrent, releaseDir(to), to, o.app.celeryApp ? CELERY_UNIT : "", 30),
      5 * MINUTE,
    );
    o.log(worker.name, `Celery: ${/celery=(\w+)/.exec(w)?.[1] ?? "unknown"}`);
    await nodes.run(
      worker,
      "point releases/current at the release",
      cmd.setShareCurrent(RELEASE_PATHS.shareCurrent, to, APP_USER.name),
      MINUTE,
    );
    return { from, to, ok: true, childMs, failures, liveMs, totalMs: Date.now() - started };
  } finally {
    await nodes.close();
  }
}

// --------------------------------------------------------------------------------------- maintenance

export type SiteMode = "normal" | "maintenance" | "read-only";

export interface MaintenanceOptions extends ReleaseRunBase {
  mode: SiteMode;
  dryRun?: boolean;
  confirm: (question: string) => Promise<boolean>;
  /** Seconds every child gets to show the mode. Defaults to 60. */
  timeoutSeconds?: number;
}

/** A path no app serves on purpose: the probe only looks at whether nginx answers it itself. */
export const MODE_PROBE_PATH = "/.django-ha/mode-probe";

/** What a child's answers must be in a mode. Pure. */
export function modeShown(mode: SiteMode, a: cmd.ModeAnswer): boolean {
  switch (mode) {
    case "normal":
      return a.get.mode === "app" && a.post.mode === "app";
    case "maintenance":
      return a.get.status === "503" && a.get.mode === "maintenance" && a.post.mode === "maintenance";
    case "read-only":
      return a.get.mode === "app" && a.post.status === "503" && a.post.mode === "read-only";
    default: {
      const never: never = mode;
      throw new Error(`unknown mode ${String(never)}`);
    }
  }
}

/** Set the flags on the share, then wait until every child's nginx answers in the mode; per-child time. */
export async function setMaintenance(
  o: MaintenanceOptions,
): Promise<{ ok: boolean; childMs: Record<string, number>; failures: string[]; totalMs: number }> {
  const started = Date.now();
  const { children, worker } = roles(o.inventory);
  const flags = { maintenance: o.mode === "maintenance", readOnly: o.mode === "read-only" };
  const nodes = new Nodes(o);
  try {
    if (o.dryRun) {
      o.log(
        "plan",
        `${RELEASE_PATHS.maintenanceFlag}: ${flags.maintenance ? "present" : "absent"}; ${RELEASE_PATHS.readOnlyFlag}: ${flags.readOnly ? "present" : "absent"} (set from ${worker.name})`,
      );
      for (const c of children) o.log("plan", `${c.name}: wait until nginx answers in ${o.mode} mode`);
      return { ok: true, childMs: {}, failures: [], totalMs: 0 };
    }
    if (
      o.mode !== "normal" &&
      !(await o.confirm(
        `Put cluster ${o.inventory.cluster} in ${o.mode} mode (${o.mode === "maintenance" ? "every request but health and ACME answered 503" : "writes answered 503"})?`,
      ))
    ) {
      throw new UserError("Not confirmed: nothing was changed.");
    }
    const out = await nodes.run(worker, "set the flags on the share", cmd.setFlags(RELEASE_PATHS.flags, APP_USER.name, flags), MINUTE);
    o.log(worker.name, out.trim().split("\n").join(", "));
    const t0 = Date.now();
    const timeout = (o.timeoutSeconds ?? 60) * 1000;
    const childMs: Record<string, number> = {};
    const failures: string[] = [];
    await Promise.all(
      children.map(async (c) => {
        let last: cmd.ModeAnswer | undefined;
        while (Date.now() - t0 < timeout) {
          last = cmd.parseModeProbe(
            await nodes.run(
              c,
              "probe nginx",
              cmd.modeProbe({
                fqdn: o.inventory.recordFqdn,
                httpsPort: PORTS.https,
                fullchain: TLS_PATHS.fullchain,
                selfSigned: TLS_PATHS.selfSigned,
                probePath: MODE_PROBE_PATH,
                header: "X-Django-HA-Mode",
              }),
              MINUTE,
            ),
          );
          if (modeShown(o.mode, last)) {
            childMs[c.name] = Date.now() - t0;
            o.log(c.name, `${o.mode} (${seconds(childMs[c.name])})`);
            return;
          }
          await new Promise((r) => setTimeout(r, 250));
        }
        failures.push(
          `${c.name}: nginx does not answer in ${o.mode} mode after ${timeout / 1000} s (GET ${last?.get.status} ${last?.get.mode}, POST ${last?.post.status} ${last?.post.mode}); is the share mounted there (ls ${RELEASE_PATHS.flags})?`,
        );
        o.log(c.name, `NOT in ${o.mode} mode`);
      }),
    );
    return { ok: failures.length === 0, childMs, failures, totalMs: Date.now() - started };
  } finally {
    await nodes.close();
  }
}
