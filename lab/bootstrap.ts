/**
 * The lab's after-boot hook: bootstrap the nodes it just booted, as `npm run bootstrap` would, with the lab as
 * the machine source (lab/source.ts). The lab uses ops/bootstrap sideways; ops knows nothing of the lab.
 */
import { loadStackSpec, UserError, type AppSpec } from "../model";
import { bootstrapTarget, formatSummary, selectNodes, targetOf, type BootstrapSummary, type PlanFor } from "../ops/bootstrap";
import type { AfterBootHook } from "./up";
import { labMachines } from "./source";

export interface LabBootstrapOptions {
  /** Stack whose hosts the lab booted. Defaults to "lab". */
  stack?: string;
  only?: string[];
  concurrency?: number;
  appDir?: string;
  /** Where .django-ha/ lives. Defaults to the repository's. */
  stateRoot?: string;
  /** Directory of Pulumi.<stack>.yaml files. Defaults to stacks/. */
  stacksDir?: string;
  planFor?: PlanFor;
  /** The Django project instead of the stack's django-ha:app (a test project). Defaults to the stack's. */
  app?: AppSpec;
  /** Receives the run's summary (timings for bench/, results for tests). */
  onSummary?: (summary: BootstrapSummary) => void;
}

/**
 * An after-boot hook for the lab's `up`: bootstrap every lab node with the lab's key and pinned host keys
 * (`labUp({ afterBoot: [labBootstrapHook()] })`). Progress and the summary go to the lab's log; a failed
 * node throws a UserError whose message is the summary (node, step, output).
 */
export function labBootstrapHook(o: LabBootstrapOptions = {}): AfterBootHook {
  return async (ctx) => {
    const stack = o.stack ?? "lab";
    const spec = loadStackSpec(stack, o.stacksDir);
    const target = targetOf({ stack, stateRoot: o.stateRoot }, spec, labMachines(stack, ctx.inventory, "the lab", ctx.paths));
    const names = selectNodes(ctx.inventory, o.only).map((n) => n.name);
    const width = Math.max(4, ...names.map((n) => n.length));
    const summary = await bootstrapTarget(
      { ...target, app: o.app ?? target.app },
      {
        only: o.only,
        concurrency: o.concurrency,
        appDir: o.appDir,
        planFor: o.planFor,
        log: (node, line) => ctx.log(`${node.padEnd(width)} │ ${line}`),
      },
    );
    o.onSummary?.(summary);
    const text = formatSummary(summary);
    if (!summary.ok) throw new UserError(text);
    for (const line of text.split("\n")) ctx.log(line);
  };
}
