/** A release is built once, on the worker, from the packed source (or a finished one is reused), then migrated once. */
import { APP_USER, PATHS } from "../../roles/context";
import { APP_ENV_FILES } from "../../roles/app";
import { RELEASE_PATHS } from "../../roles/release";
import type { InventoryNode } from "../../model";
import { buildRelease, migrate } from "./commands/build";
import { MINUTE, Nodes, type ReleaseRunBase, seconds } from "./nodes";
import type { PackedSource } from "./pack";
import { releaseDir } from "./release";
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
