#!/usr/bin/env tsx
/**
 * `npm run plan`: what `pulumi up` would create for a stack and what it would cost, offline (scripts/plan.ts).
 *   npm run plan -- --stack digitalocean-example
 *   npm run plan -- --stack lab --summary
 * Only commander is loaded until the arguments are parsed: the program, the Pulumi SDKs and the mock engine
 * (scripts/plan.ts and below) are imported when there is a plan to make, so `--help` answers at once.
 */
import { Command } from "commander";
import { runCli } from "./cli";

export async function main(argv = process.argv): Promise<void> {
  const program = new Command()
    .name("plan")
    .description("Show what `pulumi up` would create for a stack and what it would cost, offline (no Pulumi CLI, no credentials).")
    .requiredOption("--stack <name>", "stack to plan: stacks/Pulumi.<name>.yaml")
    .option("--stacks-dir <dir>", "directory of the stack files (default: stacks/ of this checkout)")
    .option("--summary", "omit the resource tree")
    .option("--json", "print the registered resources and the cost estimate as JSON")
    .option("--debug", "keep stack traces while the program runs (slower; for an unexpected error)")
    .showHelpAfterError()
    .parse(argv);
  const o = program.opts<{ stack: string; stacksDir?: string; summary?: boolean; json?: boolean; debug?: boolean }>();
  const started = Date.now();
  const { previewStackFile, renderPlan, renderPlanJson } = await import("./plan");
  const report = await previewStackFile(o.stack, o.stacksDir, { debug: o.debug });
  if (o.json) {
    console.log(renderPlanJson(report));
    return;
  }
  console.log(renderPlan(report, { tree: !o.summary }));
  console.log(`\nplanned offline in ${((Date.now() - started) / 1000).toFixed(1)} s; nothing was created or contacted`);
}

if (require.main === module) void runCli(() => main()).then((code) => (process.exitCode = code));
