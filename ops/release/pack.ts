/**
 * The operator's machine packs the project's source, nothing more (no Python runs here: the release is built on
 * the cluster). A directory is packed as it is; a git source is cloned (bare, into a temp directory) and the
 * ref's tree taken with `git archive`, so a dirty work tree never ships by accident.
 *
 * Synchronous (ops/process.ts runSync): sourceTree serves ops/bootstrap/stack.ts `bootstrapAppDir`, which the
 * Bootstrap component calls in its constructor, where nothing can be awaited.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UserError } from "../../model/errors";
import { directoryHash, makeTarball } from "../bootstrap/hash";
import { ProcessError, runSync } from "../process";
import type { ReleaseSource } from "./types";

export interface PackedSource {
  /** Gzipped tarball of the project (upload it, then call cleanup). */
  tarball: string;
  /** Content hash of the project tree (hex): the release id's second half. */
  sourceHash: string;
  /** What release.json records about where it came from. */
  facts: { source: string; ref?: string; commit?: string; sourceHash: string };
  cleanup: () => void;
}

function git(args: string[], what: string): string {
  try {
    return runSync({ cmd: "git", args }, { env: { GIT_TERMINAL_PROMPT: "0" } }).stdout.trim();
  } catch (err) {
    const e = err as Error;
    const said = err instanceof ProcessError ? err.stderr.trim() || e.message : e.message;
    throw new UserError(`${what} failed: ${said.trim().split("\n").slice(-3).join(" ")}`);
  }
}

/**
 * The project's tree as a local directory: a directory source as it is; a git source's ref exported (git archive
 * of a bare clone) into `into` (replaced). What the bootstrap uploads for the first release.
 */
export function sourceTree(source: ReleaseSource, into: string): { dir: string; commit?: string } {
  if (source.kind === "dir") return { dir: source.path };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-source-"));
  try {
    const { tree, commit } = gitTree(source.url, source.ref, tmp, false);
    fs.rmSync(into, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(into), { recursive: true });
    fs.cpSync(tree, into, { recursive: true });
    return { dir: into, commit };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Bare clone of `url` into `tmp`, the ref's tree exported to `tmp`/tree. */
function gitTree(url: string, wanted: string, tmp: string, fromFlag: boolean): { tree: string; commit: string } {
  const bare = path.join(tmp, "repo.git");
  git(["clone", "--quiet", "--bare", "--", url, bare], `git clone ${url} (django-ha:app.git)`);
  const found = runSync(
    { cmd: "git", args: ["--git-dir", bare, "rev-parse", "--verify", "--quiet", `${wanted}^{commit}`] },
    { allowFail: true },
  );
  const commit = found.stdout.trim();
  if (found.code !== 0) {
    const heads = git(["--git-dir", bare, "for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/tags"], "git for-each-ref")
      .split("\n")
      .filter(Boolean);
    throw new UserError(
      `${fromFlag ? "--ref" : "django-ha:app.ref"} = ${JSON.stringify(wanted)} is not a commit, branch or tag of ${url}. Known: ${heads.slice(0, 20).join(", ") || "(no branches)"}.`,
    );
  }
  const tree = path.join(tmp, "tree");
  fs.mkdirSync(tree);
  // A fixed program; the repository, commit and directory travel as its arguments.
  runSync({
    cmd: "bash",
    args: ["-c", 'set -o pipefail; git --git-dir "$1" archive --format=tar "$2" | tar -x -C "$3"', "pack", bare, commit, tree],
  });
  return { tree, commit };
}

/** Pack a release source. `ref` (--ref) overrides a git source's ref; it is refused for a directory source. */
export function packSource(source: ReleaseSource, ref?: string): PackedSource {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-release-"));
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
  try {
    const tarball = path.join(tmp, "source.tar.gz");
    if (source.kind === "dir") {
      if (ref !== undefined)
        throw new UserError(
          `--ref ${ref}: django-ha:app.path is a directory (${source.path}), which has no refs. Drop --ref, or set django-ha:app to {"git": "<url>", "ref": "main"}.`,
        );
      if (!fs.existsSync(source.path) || !fs.statSync(source.path).isDirectory())
        throw new UserError(
          `django-ha:app.path = ${JSON.stringify(source.path)} is not a directory: point it at your Django project (the directory that holds manage.py).`,
        );
      const sourceHash = directoryHash(source.path);
      makeTarball(source.path, tarball);
      return { tarball, sourceHash, facts: { source: `dir:${path.resolve(source.path)}`, sourceHash }, cleanup };
    }
    const wanted = ref ?? source.ref;
    const { tree, commit } = gitTree(source.url, wanted, tmp, ref !== undefined);
    const sourceHash = directoryHash(tree);
    makeTarball(tree, tarball);
    return { tarball, sourceHash, facts: { source: `git:${source.url}`, ref: wanted, commit, sourceHash }, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}
