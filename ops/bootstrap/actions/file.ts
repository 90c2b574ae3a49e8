import type { Action } from "../../../roles/types";
import * as cmd from "../commands";
import { sha256 } from "../hash";
import type { ActionHandler, ActionOf } from "./handler";

type FileAction = ActionOf<"file">;

export const UNIX_NAME = /^[a-z_][a-z0-9_-]*\$?$/;
const MODE = /^0?[0-7]{3,4}$/;

/** Write the file when its content, mode or owner differ; a changed unit file makes systemd re-read its units. */
export const fileHandler: ActionHandler<FileAction> = {
  describe: (a) => `file ${a.file.path}`,

  validate(a, at) {
    const f = a.file;
    const issues: string[] = [];
    if (!f.path.startsWith("/") || f.path.includes("\0") || f.path.endsWith("/"))
      issues.push(`${at}: path ${JSON.stringify(f.path)} must be an absolute file path`);
    if (!MODE.test(f.mode)) issues.push(`${at}: ${f.path} mode ${JSON.stringify(f.mode)} must be an octal string such as "0644"`);
    if (!UNIX_NAME.test(f.owner)) issues.push(`${at}: ${f.path} owner ${JSON.stringify(f.owner)} must be a Unix user name`);
    if (!UNIX_NAME.test(f.group)) issues.push(`${at}: ${f.path} group ${JSON.stringify(f.group)} must be a Unix group name`);
    return issues;
  },

  async apply(a, run) {
    const step = this.describe(a);
    const r = await run.run(step, cmd.writeFile(a.file, sha256(a.file.content)), { stdin: a.file.content });
    if (r.stdout.trim() !== "changed") return undefined;
    run.changedFiles.set(a.file.path, run.position);
    if (cmd.isUnitFile(a.file.path)) run.daemonReloadNeeded = true;
    return step;
  },

  async diff(a, run) {
    const step = this.describe(a);
    const probe = await run.run(step, cmd.probeFile(a.file.path));
    const diffs = cmd.fileDifferences(probe.stdout, { ...a.file, sha256: sha256(a.file.content) });
    if (diffs.length === 0) return undefined;
    // A service after it would be restarted: its diff says so.
    run.changedFiles.set(a.file.path, run.position);
    return `${step} (${diffs.join(", ")})`;
  },
};

/** The paths the file actions among `actions` write. */
export function filePathsOf(actions: readonly Action[]): Set<string> {
  return new Set(actions.flatMap((a) => (a.kind === "file" ? [a.file.path] : [])));
}
