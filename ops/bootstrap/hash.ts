import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { NodePlan } from "../../roles/types";
import { runSync } from "../process";

export function sha256(content: string | Buffer): string {
  return crypto.createHash("sha256").update(content).digest("hex");
}

/** Left out of uploads and their hash: Python's bytecode caches (made locally by tests, rebuilt on the node). */
export const UPLOAD_EXCLUDES = ["__pycache__", "*.pyc"] as const;

function excluded(name: string): boolean {
  return name === "__pycache__" || name.endsWith(".pyc");
}

/**
 * Content hash of a local directory tree: relative paths (sorted), entry type, the executable bit, file
 * content and symlink targets. Ownership and times are left out: they are set on the node, not copied.
 */
export function directoryHash(dir: string): string {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`upload source ${dir} is not a directory`);
  const h = crypto.createHash("sha256");
  const walk = (rel: string) => {
    const entries = fs
      .readdirSync(path.join(dir, rel), { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (excluded(e.name)) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(dir, r);
      if (e.isSymbolicLink()) h.update(`L ${r} -> ${fs.readlinkSync(abs)}\0`);
      else if (e.isDirectory()) {
        h.update(`D ${r}\0`);
        walk(r);
      } else if (e.isFile()) {
        const exec = fs.statSync(abs).mode & 0o111 ? "x" : "-";
        h.update(`F ${r} ${exec} ${sha256(fs.readFileSync(abs))}\0`);
      }
    }
  };
  walk("");
  return h.digest("hex");
}

/**
 * A gzipped tarball of a directory's contents (GNU tar, sorted names, numeric root owner). Synchronous, like the
 * release packer that calls it (ops/release/pack.ts, see there why).
 */
export function makeTarball(dir: string, out: string): void {
  const excludes = UPLOAD_EXCLUDES.map((p) => `--exclude=${p}`);
  runSync({ cmd: "tar", args: ["-C", dir, ...excludes, "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "-czf", out, "."] });
}

/**
 * One hash over everything the plans would put on the machines (uploads by their directory content).
 * It changes exactly when a bootstrap could change something: the Pulumi resource re-runs on it.
 */
export function plansHash(plans: readonly NodePlan[]): string {
  const canonical = [...plans]
    .sort((a, b) => (a.node.name < b.node.name ? -1 : 1))
    .map((p) => ({
      ...p,
      actions: p.actions.map((a) => (a.kind === "upload" ? { ...a, localDir: undefined, content: directoryHash(a.localDir) } : a)),
    }));
  return sha256(JSON.stringify(canonical));
}
