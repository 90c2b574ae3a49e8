#!/usr/bin/env tsx
/**
 * Deploy the stack's Django project (docs/releases.md):
 *   npm run deploy -- --stack <name> [--ref <git ref>] [--dry-run] [--yes]
 */
import { Command } from "commander";
import { confirm, elapsed, runCli } from "./cli";
import { parseArgs, releaseStackOptions, type ReleaseStackCliOptions } from "./release-cli";

export async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("deploy")
    .description(
      "Build a release of the stack's project once, on the worker (venv with Debian's packages as the base, requirements from the stack's " +
        "pythonIndexUrl, collectstatic with hashed names), run the migrations once under a lock, then switch the children one at a time: " +
        "each proves the release healthy on a candidate uWSGI, then switches its link and chain-reloads uWSGI, and must answer its health " +
        "path through nginx naming the new release before the next one starts. Then Celery restarts warm (the running job finishes first), " +
        "releases/current moves, and the last 5 releases are kept. A release that fails its health check is rolled back on every child " +
        "that switched, marked failed, and the run says why (exit 1). Holds the stack's lock. See docs/releases.md.",
    )
    .option("--ref <ref>", "git sources: the branch, tag or commit to deploy (default: django-ha:app.ref)");
  releaseStackOptions(program)
    .option("--health-timeout <seconds>", "seconds each child gets to prove the release healthy", (v) => Number(v), 90)
    .option("--dry-run", "pack the source and print the plan; contact and change nothing")
    .option("-y, --yes", "do not ask before deploying");
  const stop = parseArgs(program, argv);
  if (stop !== undefined) return stop;
  const o = program.opts<ReleaseStackCliOptions & { ref?: string; healthTimeout: number }>();
  const started = Date.now();
  return runCli(async () => {
    // Loaded only now that the arguments say there is work: --help and usage errors stay fast.
    const { deploy, releaseTarget, withReleaseLock } = await import("../ops/release");
    const { stackQuery } = await import("./sources");
    const t = releaseTarget(stackQuery(o, o.dryRun));
    const run = () =>
      deploy({
        ...t.base,
        app: t.app,
        ref: o.ref,
        dryRun: o.dryRun,
        healthTimeoutSeconds: o.healthTimeout,
        confirm: (q) => confirm(q, { yes: o.yes }),
      });
    const r = o.dryRun ? await run() : await withReleaseLock(t, "deploy", run);
    if (r.dryRun) {
      console.log(`dry run: nothing contacted or changed (${elapsed(started)})`);
      return 0;
    }
    if (!r.ok) {
      const f = r.failure;
      console.log(`\ndeploy of ${r.id} FAILED on ${f.node} at: ${f.step}`);
      for (const line of f.output.split("\n")) console.log(`    | ${line}`);
      console.log(
        r.reverted.length
          ? `rolled back: ${r.reverted.join(", ")} serve their previous release again`
          : "no child had switched: every child still serves its previous release",
      );
      console.log(`${r.id} stays on the share, marked failed (rollbacks never pick it). Total ${elapsed(started)}.`);
      return 1;
    }
    const per = Object.entries(r.childMs)
      .map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)} s`)
      .join(", ");
    console.log(
      `\ndeployed ${r.id} in ${elapsed(started)}: build ${((r.build?.buildMs ?? 0) / 1000).toFixed(1)} s${r.build?.reused ? " (reused)" : ""}, migrate ${((r.build?.migrateMs ?? 0) / 1000).toFixed(1)} s, children ${per}; Celery ${r.celery}${r.pruned.length ? `; deleted ${r.pruned.join(", ")}` : ""}`,
    );
    return 0;
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
