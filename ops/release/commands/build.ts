/** A release is built once (venv, requirements, collectstatic) on the worker, then migrated once. */
import type { Argv } from "../../../roles/shell";
import { BUILD, MIGRATE, trustedHost } from "../../../roles/release";
import { fixed } from "./program";

export interface BuildArgs {
  releases: string;
  id: string;
  tarball: string;
  /** Path inside the project, or "" for none. */
  requirements: string;
  pythonIndexUrl: string;
  settingsModule: string;
  /** What the operator's machine knows (source, ref, commit, sourceHash), stored in release.json. */
  facts: Record<string, unknown>;
  buildLock: string;
  staticRoot: string;
  user: string;
  log: string;
  envFiles: readonly string[];
}

export function buildRelease(a: BuildArgs): Argv {
  return fixed(
    BUILD,
    a.releases,
    a.id,
    a.tarball,
    a.requirements,
    a.pythonIndexUrl,
    a.settingsModule,
    JSON.stringify(a.facts),
    a.buildLock,
    a.staticRoot,
    a.user,
    a.log,
    trustedHost(a.pythonIndexUrl),
    ...a.envFiles,
  );
}

export function migrate(releaseDir: string, settingsModule: string, lock: string, user: string, envFiles: readonly string[]): Argv {
  return fixed(MIGRATE, releaseDir, settingsModule, lock, user, ...envFiles);
}
