/**
 * Releases as data: ids, what the share holds, which release a rollback goes to, which releases may be
 * deleted, and the order of a deploy. Pure: tested by tables and properties (release.test.ts).
 */
import { RELEASE_ID_PATTERN, RELEASE_PATHS } from "../../roles/release";
import { UserError } from "../../model/errors";

/** A release directory on the share, as the status program reports it. */
export interface ReleaseInfo {
  id: string;
  /** `.ready` exists: the build finished (it is written last). */
  ready: boolean;
  /** `.failed` exists: a deploy found it unhealthy and rolled back (its reason inside). */
  failed: boolean;
  /** The source content hash (release.json), for reusing a build of the same source. */
  sourceHash?: string;
}

/** The id of a release built at `builtAt` from source with content hash `sourceHash` (hex). */
export function releaseId(builtAt: Date, sourceHash: string): string {
  if (!/^[0-9a-f]{12,}$/.test(sourceHash))
    throw new Error(`source hash ${JSON.stringify(sourceHash)} is not lower-case hex of 12 or more digits`);
  const stamp = builtAt.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return `${stamp}-${sourceHash.slice(0, 12)}`;
}

export function isReleaseId(id: string): boolean {
  return RELEASE_ID_PATTERN.test(id);
}

/** The directory of a release on the share. */
export function releaseDir(id: string): string {
  if (!isReleaseId(id)) throw new Error(`${JSON.stringify(id)} is not a release id (<yyyymmddHHMMSS>-<12 hex>)`);
  return `${RELEASE_PATHS.releases}/${id}`;
}

/** Oldest first: ids start with their UTC build time, so string order is build order. */
export function byAge(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Releases a node may run: finished and not marked failed. */
export function usable(releases: readonly ReleaseInfo[]): ReleaseInfo[] {
  return releases.filter((r) => r.ready && !r.failed).sort((a, b) => byAge(a.id, b.id));
}

/** The newest usable release older than `id` (what a rollback from `id` goes to), or undefined. */
export function previousRelease(releases: readonly ReleaseInfo[], id: string): string | undefined {
  return usable(releases)
    .filter((r) => byAge(r.id, id) < 0)
    .pop()?.id;
}

/** A ready release of the same source (and index) to reuse instead of building again. */
export function reusableRelease(releases: readonly ReleaseInfo[], sourceHash: string): string | undefined {
  return usable(releases)
    .filter((r) => r.sourceHash === sourceHash)
    .pop()?.id;
}

export interface RollbackInput {
  releases: readonly ReleaseInfo[];
  /** The release the stack runs (the share's `current`). */
  current: string | undefined;
  /** `--to <id>`. */
  to?: string;
}

/** Which release a rollback makes live; a UserError naming the value and the fix when there is none. */
export function rollbackTarget(o: RollbackInput): string {
  const known = usable(o.releases).map((r) => r.id);
  const listing = known.length ? `Releases on the share: ${known.join(", ")}.` : "The share holds no finished release.";
  if (o.to !== undefined) {
    if (!isReleaseId(o.to)) throw new UserError(`--to ${JSON.stringify(o.to)} is not a release id (<yyyymmddHHMMSS>-<12 hex>). ${listing}`);
    const r = o.releases.find((x) => x.id === o.to);
    if (!r) throw new UserError(`--to ${o.to}: no such release on the share (kept: the last 5). ${listing}`);
    if (!r.ready) throw new UserError(`--to ${o.to}: that release was never finished (no .ready): it cannot run. ${listing}`);
    if (r.failed)
      throw new UserError(`--to ${o.to}: a deploy found that release unhealthy (see .failed in its directory). Name another: ${listing}`);
    return r.id;
  }
  if (!o.current)
    throw new UserError(`The stack has no current release (/srv/share/releases/current): deploy one first (npm run deploy). ${listing}`);
  const previous = previousRelease(o.releases, o.current);
  if (!previous)
    throw new UserError(
      `No release older than the current one (${o.current}) is kept: nothing to roll back to. Name one with --to. ${listing}`,
    );
  return previous;
}

export interface PruneInput {
  releases: readonly ReleaseInfo[];
  /** Releases some node runs, or the share's `current` points at: never deleted. */
  live: readonly string[];
  /** Usable releases kept. Defaults to 5. */
  keep?: number;
  /** Unfinished builds younger than this are left alone (a build may be running). Defaults to 1 h. */
  now: Date;
  unfinishedGraceMs?: number;
}

/**
 * Which release directories to delete: keep the newest `keep` usable releases, every live one and the one
 * before each live release (the rollback target); delete older usable releases, failed ones, and unfinished
 * builds older than the grace period.
 */
export function releasesToPrune(o: PruneInput): string[] {
  const keep = o.keep ?? 5;
  const grace = o.unfinishedGraceMs ?? 3_600_000;
  const live = new Set(o.live);
  const protectedIds = new Set(o.live);
  for (const id of o.live) {
    const previous = previousRelease(o.releases, id);
    if (previous) protectedIds.add(previous);
  }
  const newest = usable(o.releases)
    .slice(-keep)
    .map((r) => r.id);
  for (const id of newest) protectedIds.add(id);
  const stampOf = (id: string) =>
    Date.UTC(+id.slice(0, 4), +id.slice(4, 6) - 1, +id.slice(6, 8), +id.slice(8, 10), +id.slice(10, 12), +id.slice(12, 14));
  return o.releases
    .filter((r) => isReleaseId(r.id) && !protectedIds.has(r.id) && !live.has(r.id))
    .filter((r) => r.ready || o.now.getTime() - stampOf(r.id) > grace)
    .map((r) => r.id)
    .sort(byAge);
}

/** One step of a deploy, in order (what --dry-run prints and the run follows). */
export type DeployStep =
  | { kind: "upload"; node: string }
  | { kind: "build"; node: string }
  | { kind: "migrate"; node: string }
  | { kind: "switch-child"; node: string }
  | { kind: "switch-worker"; node: string; celery: boolean }
  | { kind: "current" }
  | { kind: "prune" };

export interface DeployPlanInput {
  children: readonly string[];
  worker: string;
  /** The release exists already (same source): no upload, no build. */
  reuse: boolean;
  celery: boolean;
}

/** Build on the worker, migrate once, then the children one at a time, then the worker's Celery, then `current`. */
export function deployPlan(o: DeployPlanInput): DeployStep[] {
  if (o.children.length === 0) throw new UserError("The inventory has no child: there is nothing to deploy to.");
  return [
    ...(o.reuse
      ? []
      : ([
          { kind: "upload", node: o.worker },
          { kind: "build", node: o.worker },
        ] as DeployStep[])),
    { kind: "migrate", node: o.worker },
    ...o.children.map((node): DeployStep => ({ kind: "switch-child", node })),
    { kind: "switch-worker", node: o.worker, celery: o.celery },
    { kind: "current" },
    { kind: "prune" },
  ];
}

/** A step as --dry-run and progress print it. */
export function describeStep(s: DeployStep, id: string): string {
  switch (s.kind) {
    case "upload":
      return `${s.node}: upload the packed source to ${RELEASE_PATHS.incoming}/`;
    case "build":
      return `${s.node}: build ${id} (venv with --system-site-packages, requirements from the stack's index, collectstatic into /srv/share/static), .ready last`;
    case "migrate":
      return `${s.node}: migrate with ${id}, once, under ${RELEASE_PATHS.migrateLock}`;
    case "switch-child":
      return `${s.node}: prove ${id} healthy on a candidate uWSGI, switch ${RELEASE_PATHS.nodeCurrent}, chain-reload uWSGI, health through nginx reports ${id}`;
    case "switch-worker":
      return `${s.node}: switch ${RELEASE_PATHS.nodeCurrent}${s.celery ? ", warm-restart Celery (the running job finishes first)" : " (no Celery app)"}`;
    case "current":
      return `share: ${RELEASE_PATHS.shareCurrent} → ${id} (the release new nodes start on)`;
    case "prune":
      return "share: delete releases beyond the last 5 (never a live one or the one before it)";
    default: {
      const never: never = s;
      return String(never);
    }
  }
}

/** Children to put back after a failed switch: every child already switched, and the one that failed, newest first. */
export function childrenToRevert(switched: readonly string[], failedOn: string | undefined): string[] {
  return [...(failedOn && !switched.includes(failedOn) ? [...switched, failedOn] : switched)].reverse();
}
