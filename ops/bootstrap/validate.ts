import * as fs from "node:fs";
import type { NodePlan } from "../../roles/types";
import { UserError } from "../../model/errors";

const UNIX_NAME = /^[a-z_][a-z0-9_-]*\$?$/;
const UNIT_NAME = /^[A-Za-z0-9:_.@\\-]+$/;
const MODE = /^0?[0-7]{3,4}$/;
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?$/;

/**
 * Every problem in a set of plans, each naming where it is, the value and the fix. Checked for ALL
 * nodes before any machine is touched, so a bad plan changes nothing anywhere.
 */
export function planIssues(plans: readonly NodePlan[]): string[] {
  const issues: string[] = [];
  const seen = new Set<string>();
  for (const plan of plans) {
    const n = plan.node.name;
    if (seen.has(n)) issues.push(`node ${n}: appears twice; every node needs exactly one plan`);
    seen.add(n);
    const filePaths = new Set<string>();
    const scriptNames = new Set<string>();
    plan.actions.forEach((a, i) => {
      const at = `node ${n}, action ${i + 1} (${a.kind})`;
      switch (a.kind) {
        case "packages":
          for (const p of a.names)
            if (!PACKAGE.test(p))
              issues.push(`${at}: package name ${JSON.stringify(p)} is not a Debian package name; fix the role's package list`);
          break;
        case "file": {
          const f = a.file;
          if (!f.path.startsWith("/") || f.path.includes("\0") || f.path.endsWith("/"))
            issues.push(`${at}: path ${JSON.stringify(f.path)} must be an absolute file path`);
          if (!MODE.test(f.mode)) issues.push(`${at}: ${f.path} mode ${JSON.stringify(f.mode)} must be an octal string such as "0644"`);
          if (!UNIX_NAME.test(f.owner)) issues.push(`${at}: ${f.path} owner ${JSON.stringify(f.owner)} must be a Unix user name`);
          if (!UNIX_NAME.test(f.group)) issues.push(`${at}: ${f.path} group ${JSON.stringify(f.group)} must be a Unix group name`);
          filePaths.add(f.path);
          break;
        }
        case "upload":
          if (!a.remoteDir.startsWith("/") || a.remoteDir.replace(/\/+$/, "") === "")
            issues.push(`${at} ${a.name}: remoteDir ${JSON.stringify(a.remoteDir)} must be an absolute directory other than /`);
          if (!fs.existsSync(a.localDir) || !fs.statSync(a.localDir).isDirectory())
            issues.push(`${at} ${a.name}: localDir ${JSON.stringify(a.localDir)} is not a local directory; point it at the tree to copy`);
          if (!UNIX_NAME.test(a.owner) || !UNIX_NAME.test(a.group))
            issues.push(`${at} ${a.name}: owner/group ${JSON.stringify(`${a.owner}:${a.group}`)} must be Unix names`);
          break;
        case "script":
          if (!a.name.trim()) issues.push(`${at}: a script needs a name (it appears in progress and failure reports)`);
          if (scriptNames.has(a.name))
            issues.push(`${at}: script name ${JSON.stringify(a.name)} is used twice on this node; names must be unique`);
          scriptNames.add(a.name);
          break;
        case "service":
          if (!UNIT_NAME.test(a.name)) issues.push(`${at}: unit name ${JSON.stringify(a.name)} is not a systemd unit name`);
          for (const p of a.restartWhen)
            if (!filePaths.has(p))
              issues.push(
                `${at} ${a.name}: restartWhen names ${JSON.stringify(p)}, which no earlier file action of this node writes; list the path of a file action placed before the service`,
              );
          for (const s of a.restartAfterScripts ?? [])
            if (!scriptNames.has(s))
              issues.push(
                `${at} ${a.name}: restartAfterScripts names ${JSON.stringify(s)}, which no earlier script action of this node has; use the name of a script placed before the service`,
              );
          break;
        default: {
          const never: never = a;
          issues.push(`${at}: unknown action kind ${JSON.stringify((never as { kind: unknown }).kind)}`);
        }
      }
    });
    plan.checks.forEach((c, i) => {
      if (c.attempts !== undefined && (!Number.isInteger(c.attempts) || c.attempts < 1))
        issues.push(`node ${n}, check ${i + 1} (${c.name}): attempts ${c.attempts} must be a whole number ≥ 1`);
    });
  }
  return issues;
}

/** Throw one UserError listing every problem, before anything is changed. */
export function validatePlans(plans: readonly NodePlan[]): void {
  const issues = planIssues(plans);
  if (issues.length)
    throw new UserError(
      `The bootstrap plans have ${issues.length} problem${issues.length === 1 ? "" : "s"}; nothing was changed:\n${issues.map((i) => `  - ${i}`).join("\n")}`,
    );
}
