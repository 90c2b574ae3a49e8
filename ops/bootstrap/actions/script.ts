import { CHANGED_MARKER } from "../../../roles/types";
import * as cmd from "../commands";
import { type ActionHandler, type ActionOf, StepFailure, TIMEOUTS } from "./handler";

type ScriptAction = ActionOf<"script">;

/** An idempotent bash script that prints CHANGED_MARKER when it changed something. */
export const scriptHandler: ActionHandler<ScriptAction> = {
  describe: (a) => `script ${a.name}`,

  validate(a, at, earlier) {
    const issues: string[] = [];
    if (!a.name.trim()) issues.push(`${at}: a script needs a name (it appears in progress and failure reports)`);
    if (earlier.some((e) => e.kind === "script" && e.name === a.name))
      issues.push(`${at}: script name ${JSON.stringify(a.name)} is used twice on this node; names must be unique`);
    return issues;
  },

  async apply(a, run) {
    const step = this.describe(a);
    // Scripts may start or stop units (the volume scripts do): systemd must see changed unit files first.
    await run.reloadUnitsIfNeeded(step);
    const r = await run.run(step, cmd.runScript(a.name, CHANGED_MARKER), { stdin: a.script, timeoutMs: TIMEOUTS.script });
    const outcome = cmd.parseScriptOutput(r.stdout);
    if (outcome.code !== 0) throw new StepFailure(step, outcome.tail, outcome.code);
    if (!outcome.changed) return undefined;
    run.changedScripts.set(a.name, run.position);
    return step;
  },

  // What a script would do is unknown until it runs: --diff does not run it, and says so.
  async diff(a, run) {
    run.log(`${this.describe(a)}: not run (--diff)`);
    return undefined;
  },
};
