/** Readable text form of a NodePlan for the committed snapshots in roles/__snapshots__/. */
import * as path from "node:path";
import type { NodePlan } from "./types";

/** Local paths are shown relative to the repository, so snapshots do not depend on the checkout location. */
const REPO = path.resolve(__dirname, "..");

export function planToText(plan: NodePlan): string {
  const out: string[] = [`# plan of ${plan.node.name} (${plan.role})`];
  plan.actions.forEach((a, i) => {
    const n = String(i + 1).padStart(2, "0");
    switch (a.kind) {
      case "packages":
        out.push(`== ${n} packages`, a.names.join(" "));
        break;
      case "file":
        out.push(`== ${n} file ${a.file.path} (${a.file.mode} ${a.file.owner}:${a.file.group})`, a.file.content.replace(/\n$/, ""));
        break;
      case "upload":
        out.push(`== ${n} upload ${a.name}: ${path.relative(REPO, a.localDir) || "."} -> ${a.remoteDir} (${a.owner}:${a.group})`);
        break;
      case "script":
        out.push(`== ${n} script ${a.name}`, a.script.replace(/\n$/, ""));
        break;
      case "service":
        out.push(
          `== ${n} service ${a.name}: ${a.state}${a.enabled ? ", enabled" : ""}${a.reload ? ", reload" : ""} when [${a.restartWhen.join(", ")}]${a.restartAfterScripts?.length ? ` or scripts [${a.restartAfterScripts.join(", ")}]` : ""}`,
        );
        break;
      default: {
        const never: never = a;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
  });
  plan.checks.forEach((c) => out.push(`== check ${c.name}${c.attempts ? ` (${c.attempts} attempts)` : ""}`, c.script.replace(/\n$/, "")));
  return `${out.join("\n")}\n`;
}
