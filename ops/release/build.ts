/** A release is built once, on the worker, from the packed source (or a finished one is reused), then migrated once; the first release of a new cluster. */
import { APP_USER, PATHS } from "../../roles/context";
import { APP_ENV_FILES } from "../../roles/app";
import { RELEASE_PATHS } from "../../roles/release";
import type { InventoryNode } from "../../model";
import { buildRelease, migrate } from "./commands/build";
import { setShareCurrent } from "./commands/share";
import { childrenAndWorker, MINUTE, Nodes, type ReleaseRunBase, seconds, statusOn } from "./nodes";
import { packSource, type PackedSource } from "./pack";
import { releaseDir, releaseId, reusableRelease } from "./release";
import type { ReleaseApp } from "./types";

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
export async function buildOn(nodes: Nodes, o: ReleaseRunBase, b: BuildInput): Promise<BuildResult> {
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
      buildRelease({
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
    migrate(releaseDir(id), app.settingsModule, RELEASE_PATHS.migrateLock, APP_USER.name, APP_ENV_FILES),
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
  const { worker } = childrenAndWorker(o.inventory);
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
      await nodes.run(worker, "point releases/current at it", setShareCurrent(RELEASE_PATHS.shareCurrent, id, APP_USER.name), MINUTE);
      o.log(worker.name, `first release ${id} is current`);
      return { id, built: true, ms: Date.now() - started };
    } finally {
      packed.cleanup();
    }
  } finally {
    await nodes.close();
  }
}
