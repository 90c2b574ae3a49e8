#!/usr/bin/env tsx
/**
 * Maintenance page or read-only mode on every child, without a deploy (docs/releases.md):
 *   npm run maintenance -- --stack <name> on|off [--read-only] [--dry-run] [--yes]
 */
import { Command } from "commander";
import type { SiteMode } from "../ops/release";
import { UserError } from "../model/errors";
import { confirm, elapsed, runCli } from "./cli";
import { parseArgs, releaseStackOptions, type ReleaseStackCliOptions } from "./release-cli";

export async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("maintenance")
    .description(
      "on: every child's nginx answers visitors with a maintenance page (503, Retry-After); on --read-only: GET and HEAD are served, " +
        "every other method gets a clear 503 page (Retry-After). off: back to normal. The health path and ACME challenges are always " +
        "served. Flags on the share (/srv/share/.django-ha/), which nginx checks on every request; the run waits until every child " +
        "answers in the new mode and prints how long each took.",
    )
    .argument("<on|off>", "on or off")
    .option("--read-only", "with on: read-only mode instead of the maintenance page");
  releaseStackOptions(program)
    .option("--dry-run", "print what would be set; change nothing")
    .option("-y, --yes", "do not ask before turning it on");
  const stop = parseArgs(program, argv);
  if (stop !== undefined) return stop;
  const o = program.opts<ReleaseStackCliOptions & { readOnly?: boolean }>();
  const state = program.args[0];
  const started = Date.now();
  return runCli(async () => {
    if (state !== "on" && state !== "off")
      throw new UserError(`${JSON.stringify(state)} is neither on nor off: npm run maintenance -- --stack ${o.stack} on|off [--read-only]`);
    if (state === "off" && o.readOnly)
      throw new UserError("--read-only goes with on (off turns both modes off): npm run maintenance -- --stack <name> off");
    const mode: SiteMode = state === "off" ? "normal" : o.readOnly ? "read-only" : "maintenance";
    // Loaded only now that the arguments say there is work: --help and usage errors stay fast.
    const { releaseTarget, setMaintenance, withReleaseLock } = await import("../ops/release");
    const { stackQuery } = await import("./sources");
    const t = releaseTarget(stackQuery(o, o.dryRun));
    const run = () => setMaintenance({ ...t.base, mode, dryRun: o.dryRun, confirm: (q) => confirm(q, { yes: o.yes }) });
    const r = o.dryRun ? await run() : await withReleaseLock(t, "maintenance", run);
    if (o.dryRun) {
      console.log(`dry run: nothing changed (${elapsed(started)})`);
      return 0;
    }
    if (!r.ok) {
      for (const f of r.failures) console.log(`  ${f}`);
      return 1;
    }
    console.log(
      `\n${mode === "normal" ? "normal service" : `${mode} mode`} on every child (slowest ${(Math.max(0, ...Object.values(r.childMs)) / 1000).toFixed(1)} s); total ${elapsed(started)}`,
    );
    return 0;
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
