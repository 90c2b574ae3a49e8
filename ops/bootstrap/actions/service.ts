import type { Argv } from "../../../roles/shell";
import * as cmd from "../commands";
import { type ActionHandler, type ActionOf, combined, lastLines, type NodeRun, StepFailure, TIMEOUTS } from "./handler";
import { filePathsOf } from "./file";

type ServiceAction = ActionOf<"service">;

const UNIT_NAME = /^[A-Za-z0-9:_.@\\-]+$/;

/** The systemctl commands that bring the unit to its wanted state (restart/reload when what it watches changed). */
async function neededCommands(a: ServiceAction, run: NodeRun): Promise<Argv[]> {
  const probe = cmd.parseServiceProbe((await run.run(serviceHandler.describe(a), cmd.probeService(a.name))).stdout);
  const since = run.restartedAt.get(a.name) ?? -1;
  const changedSince = (at: number | undefined) => at !== undefined && at > since;
  const triggered =
    a.restartWhen.some((p) => changedSince(run.changedFiles.get(p))) ||
    (a.restartAfterScripts ?? []).some((s) => changedSince(run.changedScripts.get(s)));
  return cmd.serviceCommands(a, probe, triggered);
}

/** Run one systemctl command; a failure carries the unit's own words from its journal. */
async function systemctl(a: ServiceAction, s: Argv, run: NodeRun): Promise<void> {
  const r = await run.exec.run(s, { timeoutMs: TIMEOUTS.short });
  if (r.code === 0) return;
  const journal = await run.exec
    .run(["journalctl", "-u", a.name, "-n", "20", "--no-pager", "-o", "cat"], { timeoutMs: TIMEOUTS.short })
    .catch(() => undefined);
  throw new StepFailure(
    `${serviceHandler.describe(a)}: ${s.slice(1, -2).join(" ")}`,
    lastLines([combined(r), journal ? combined(journal) : ""].filter(Boolean).join("\n")),
    r.code,
  );
}

/** Make a systemd unit enabled/started (or stopped/masked); restart or reload it when what it watches changed. */
export const serviceHandler: ActionHandler<ServiceAction> = {
  describe: (a) => `service ${a.name}`,

  validate(a, at, earlier) {
    const issues: string[] = [];
    if (!UNIT_NAME.test(a.name)) issues.push(`${at}: unit name ${JSON.stringify(a.name)} is not a systemd unit name`);
    const files = filePathsOf(earlier);
    for (const p of a.restartWhen.filter((x) => !files.has(x)))
      issues.push(
        `${at} ${a.name}: restartWhen names ${JSON.stringify(p)}, which no earlier file action of this node writes; list the path of a file action placed before the service`,
      );
    const scripts = new Set(earlier.flatMap((e) => (e.kind === "script" ? [e.name] : [])));
    for (const s of (a.restartAfterScripts ?? []).filter((x) => !scripts.has(x)))
      issues.push(
        `${at} ${a.name}: restartAfterScripts names ${JSON.stringify(s)}, which no earlier script action of this node has; use the name of a script placed before the service`,
      );
    return issues;
  },

  async apply(a, run) {
    // systemd must see changed unit files before anything is asked of it (is-enabled reads them too).
    await run.reloadUnitsIfNeeded(this.describe(a));
    const steps = await neededCommands(a, run);
    if (steps.length === 0) return undefined;
    for (const s of steps) await systemctl(a, s, run);
    if (steps.some((s) => s[1] === "start" || s[1] === "restart")) run.restartedAt.set(a.name, run.position);
    return `${this.describe(a)}: ${steps.map((s) => s[1]).join(", ")}`;
  },

  async diff(a, run) {
    const steps = await neededCommands(a, run);
    return steps.length === 0 ? undefined : `${this.describe(a)}: would ${steps.map((x) => x[1]).join(", ")}`;
  },
};
