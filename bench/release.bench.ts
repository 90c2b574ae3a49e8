#!/usr/bin/env tsx
/**
 * Releases in the lab, as root (docs/releases.md, README "Benchmarks"):
 *   npm run bench:release [-- --rounds 2]
 * With 1 child and with 4 children (stacks/Pulumi.lab-wide.yaml; the 1-child run bootstraps parent, standby,
 * worker and lab-child-1 and deploys to that child only): per round, a deploy of a new source (build on the
 * worker, migrate, each child's candidate + switch + health through nginx, Celery, current) and a rollback
 * (live on every child). Prints markdown tables of the medians. Timings are never asserted anywhere.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { labBootstrapHook, labDown, labSource, labUp } from "../lab";
import type { BootstrapSummary } from "../ops/bootstrap";
import { deploy, releaseTarget, rollback, SAMPLE_APP, type ReleaseApp } from "../ops/release";

const STACK = "lab-wide";
const quiet = () => undefined;
const yes = async () => true;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

interface Round {
  buildMs: number;
  migrateMs: number;
  perChildMs: number[];
  deployMs: number;
  rollbackLiveMs: number;
  rollbackMs: number;
}

async function run(children: number, rounds: number): Promise<Round[]> {
  await labDown({ log: quiet });
  const only = children === 1 ? ["lab-db-1", "lab-db-2", "lab-worker", "lab-child-1"] : undefined;
  let boot: BootstrapSummary | undefined;
  await labUp({ stack: STACK, log: quiet, afterBoot: [labBootstrapHook({ stack: STACK, only, onSummary: (x) => (boot = x) })] });
  if (!boot?.ok) throw new Error(`bootstrap failed: ${JSON.stringify(boot?.results.filter((r) => r.status === "failed"))}`);
  const t = releaseTarget({ stack: STACK, app: SAMPLE_APP, sources: [labSource()] });
  const inventory = only ? { ...t.base.inventory, nodes: t.base.inventory.nodes.filter((n) => only.includes(n.name)) } : t.base.inventory;
  const base = { ...t.base, inventory, log: quiet };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "release-bench-"));
  const out: Round[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      // A new source each round: the sample app with a marker, so the build really runs.
      const dir = path.join(tmp, `app-${i}`);
      fs.cpSync(path.join(__dirname, "..", "app"), dir, { recursive: true, filter: (p) => path.basename(p) !== "__pycache__" });
      fs.writeFileSync(path.join(dir, "BENCH_ROUND"), `${children}-${i}-${Date.now()}\n`);
      const app: ReleaseApp = { ...SAMPLE_APP, source: { kind: "dir", path: dir } };
      const d = await deploy({ ...base, app, confirm: yes });
      if (!d.ok) throw new Error(`deploy failed: ${JSON.stringify(d.failure)}`);
      const r = await rollback({ ...base, app, confirm: yes });
      if (!r.ok) throw new Error(`rollback failed: ${JSON.stringify(r.failures)}`);
      out.push({
        buildMs: d.build!.buildMs,
        migrateMs: d.build!.migrateMs,
        perChildMs: Object.values(d.childMs),
        deployMs: d.totalMs,
        rollbackLiveMs: r.liveMs,
        rollbackMs: r.totalMs,
      });
      console.error(`${children} child(ren), round ${i + 1}: deploy ${s(d.totalMs)}, rollback live in ${s(r.liveMs)}`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    await labDown({ log: quiet });
  }
  return out;
}

async function main(): Promise<void> {
  const o = new Command().option("--rounds <n>", "deploy + rollback rounds per cluster size", "2").parse().opts<{ rounds: string }>();
  const rounds = Number(o.rounds);
  const sizes: [number, Round[]][] = [];
  for (const n of [1, 4]) sizes.push([n, await run(n, rounds)]);
  console.log(`\nMedians of ${rounds} rounds (lab: ${os.cpus().length} cores), the sample app, no requirements to install:\n`);
  console.log(
    "| children | build (worker) | migrate | per child (candidate + switch + health) | whole deploy | rollback: live on every child | rollback total |",
  );
  console.log("|---:|---:|---:|---:|---:|---:|---:|");
  for (const [n, rs] of sizes) {
    console.log(
      `| ${n} | ${s(median(rs.map((r) => r.buildMs)))} | ${s(median(rs.map((r) => r.migrateMs)))} | ${s(median(rs.flatMap((r) => r.perChildMs)))} | ${s(median(rs.map((r) => r.deployMs)))} | ${s(median(rs.map((r) => r.rollbackLiveMs)))} | ${s(median(rs.map((r) => r.rollbackMs)))} |`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
