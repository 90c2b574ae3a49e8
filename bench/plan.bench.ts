#!/usr/bin/env tsx
/**
 * Time the offline plan (validate → run the program under mocks → render the plan text) for
 * N = 1, 10, 100, 500 children on each cloud target, from in-memory configs.
 *   npx tsx bench/plan.bench.ts [--runs 3]
 * Prints a markdown table (median of the runs) for docs/benchmarks.md. Timings are never asserted.
 */
import { performance } from "node:perf_hooks";
import { planConfig, renderPlan } from "../scripts/plan";
import { configFor, Provider } from "../test/configs";

export interface PlanTiming {
  provider: Provider;
  children: number;
  resources: number;
  medianMs: number;
  runsMs: number[];
}

export async function benchPlan(
  sizes = [1, 10, 100, 500],
  providers: Provider[] = ["digitalocean", "aws"],
  runs = 3,
): Promise<PlanTiming[]> {
  const results: PlanTiming[] = [];
  await planConfig(configFor("digitalocean", 1), "warm-up"); // load modules once, outside the timings
  for (const provider of providers) {
    for (const children of sizes) {
      const runsMs: number[] = [];
      let resources = 0;
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        const report = await planConfig(configFor(provider, children), `bench ${provider} N=${children}`);
        renderPlan(report);
        runsMs.push(performance.now() - started);
        resources = report.run.resources.length;
      }
      const sorted = [...runsMs].sort((a, b) => a - b);
      results.push({ provider, children, resources, medianMs: sorted[Math.floor(sorted.length / 2)], runsMs });
      process.stderr.write(`  ${provider} N=${children}: ${resources} resources, ${runsMs.map((t) => t.toFixed(0)).join(" / ")} ms\n`);
    }
  }
  return results;
}

export function timingTable(results: PlanTiming[]): string {
  const rows = results.map((r) => `| ${r.provider} | ${r.children} | ${r.resources} | ${(r.medianMs / 1000).toFixed(2)} s |`);
  return ["| target | children | resources registered | offline plan (median) |", "|---|---:|---:|---:|", ...rows].join("\n");
}

if (require.main === module) {
  const i = process.argv.indexOf("--runs");
  const runs = i > 0 ? Number(process.argv[i + 1]) : 3;
  const started = performance.now();
  benchPlan(undefined, undefined, runs)
    .then((results) => {
      console.log(timingTable(results));
      console.log(
        `\n${runs} runs each, median shown; node ${process.version}; total ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
