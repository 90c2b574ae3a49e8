#!/usr/bin/env tsx
/**
 * Make the previous (or a named) release live again (docs/releases.md):
 *   npm run rollback -- --stack <name> [--to <release>] [--dry-run] [--yes]
 */
import { Command } from "commander";
import { confirm, elapsed, runCli } from "./cli";
import { parseArgs, releaseStackOptions, type ReleaseStackCliOptions } from "./release-cli";

export async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("rollback")
    .description(
      "Make the release before the current one (or --to <release>) live on every child at once: each child's link moves and uWSGI " +
        "chain-reloads (nothing is downloaded or built), each proves it through nginx; then the worker (Celery warm restart) and " +
        "releases/current. Migrations are not undone (docs/releases.md: expand/contract). Holds the stack's lock.",
    )
    .option("--to <release>", "the release to make live (an id from the share, e.g. 20261201093000-0123456789ab)");
  releaseStackOptions(program)
    .option("--dry-run", "read the releases on the share and print the plan; change nothing")
    .option("-y, --yes", "do not ask before rolling back");
  const stop = parseArgs(program, argv);
  if (stop !== undefined) return stop;
  const o = program.opts<ReleaseStackCliOptions & { to?: string }>();
  const started = Date.now();
  return runCli(async () => {
    // Loaded only now that the arguments say there is work: --help and usage errors stay fast.
    const { releaseTarget, rollback, withReleaseLock } = await import("../ops/release");
    const { stackQuery } = await import("./sources");
    const t = releaseTarget(stackQuery(o));
    const run = () => rollback({ ...t.base, app: t.app, to: o.to, dryRun: o.dryRun, confirm: (q) => confirm(q, { yes: o.yes }) });
    const r = o.dryRun ? await run() : await withReleaseLock(t, "rollback", run);
    if (r.dryRun) {
      console.log(`dry run: nothing changed (${elapsed(started)})`);
      return 0;
    }
    if (!r.ok) {
      console.log(`\nrollback to ${r.to} FAILED on ${r.failures.map((f) => f.node).join(", ")}:`);
      for (const f of r.failures) for (const line of [`${f.node}: ${f.step}`, ...f.output.split("\n")]) console.log(`    | ${line}`);
      console.log("Children that switched serve the release; the others serve what they ran. Fix the node and run the rollback again.");
      return 1;
    }
    console.log(
      `\n${r.to} is live on every child ${(r.liveMs / 1000).toFixed(1)} s after the first link moved (${Object.entries(r.childMs)
        .map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)} s`)
        .join(", ")}); total ${elapsed(started)}`,
    );
    return 0;
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
