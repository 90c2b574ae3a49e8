#!/usr/bin/env tsx
/**
 * Lab wall times and memory, as root:
 *   npx tsx bench/lab.bench.ts [--no-cold] [--settle 15]
 * cold up = bake a new image (debootstrap + apt, the only network use) and boot; warm up = cached image.
 * Per-node RAM = sum of PSS (/proc/<pid>/smaps_rollup) over the node's processes (its PID namespace),
 * read after the nodes settle. Prints a markdown table for docs/benchmarks.md. Timings are never asserted.
 */
import * as fs from "node:fs";
import { performance } from "node:perf_hooks";
import { labPaths } from "../lab/config";
import { setTimeout as sleep } from "node:timers/promises";
import { labDown, labUp } from "../lab";
import { containerInit, pidsInNamespaceOf } from "../lab/procs";
import { readState } from "../lab/state";

/** PSS in KiB of one process, 0 when it is gone or unreadable (kernel threads). */
export function pssKiB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface NodeMemory {
  name: string;
  kind: string;
  processes: number;
  pssMiB: number;
}

/** PSS of every process inside each running node. */
export function nodeMemory(): NodeMemory[] {
  const state = readState(labPaths());
  if (!state) return [];
  return Object.values(state.nodes).map((n) => {
    const init = n.pid ? containerInit(n.pid) : undefined;
    const pids = init ? pidsInNamespaceOf(init) : [];
    const kib = pids.reduce((sum, p) => sum + pssKiB(p), 0);
    return { name: n.name, kind: n.kind, processes: pids.length, pssMiB: kib / 1024 };
  });
}

async function timed<T>(what: string, f: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t = performance.now();
  const value = await f();
  const seconds = (performance.now() - t) / 1000;
  process.stderr.write(`${what}: ${seconds.toFixed(1)} s\n`);
  return { seconds, value };
}

async function main() {
  const args = process.argv.slice(2);
  const cold = !args.includes("--no-cold");
  const settleAt = args.indexOf("--settle");
  const settle = settleAt >= 0 ? Number(args[settleAt + 1]) : 15;
  const log = () => undefined;
  const rows: [string, string][] = [];
  await labDown({ log });
  if (cold) {
    const r = await timed("cold up (bake + boot)", () => labUp({ rebake: true, log }));
    rows.push(["cold `up` (bake image + boot 6 machines)", `${r.seconds.toFixed(1)} s (bake ${r.value.image.seconds.toFixed(1)} s)`]);
    await labDown({ log });
  }
  // Warm from the tarball: the extracted root is gone, the tar.zst is kept.
  const state0 = labPaths();
  for (const d of fs.readdirSync(state0.images))
    if (!d.endsWith(".tar.zst")) fs.rmSync(`${state0.images}/${d}`, { recursive: true, force: true });
  const fromTar = await timed("warm up (extract cached tar.zst + boot)", () => labUp({ log }));
  rows.push([
    "warm `up` (extract cached tar.zst + boot)",
    `${fromTar.seconds.toFixed(1)} s (extract ${fromTar.value.image.seconds.toFixed(1)} s)`,
  ]);
  await labDown({ log });
  const warm = await timed("warm up (extracted image)", () => labUp({ log }));
  rows.push(["warm `up` (extracted image cached)", `${warm.seconds.toFixed(1)} s`]);
  const slowest = Object.entries(warm.value.ready).sort((a, b) => b[1] - a[1])[0];
  rows.push(["slowest node boot → ready (sshd + systemd running)", `${slowest[1].toFixed(1)} s (${slowest[0]})`]);
  await sleep(settle * 1000);
  const mem = nodeMemory();
  const down = await timed("down", () => labDown({ log }));
  rows.push(["`down` (6 machines, everything removed)", `${down.seconds.toFixed(1)} s`]);
  const tarball = fs.readdirSync(state0.images).find((f) => f.endsWith(".tar.zst"));
  if (tarball) rows.push(["image tar.zst", `${(fs.statSync(`${state0.images}/${tarball}`).size / 1e6).toFixed(0)} MB`]);
  console.log("| lab | figure |\n|---|---|");
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  console.log(`\n| node (idle, ${settle} s after ready, before bootstrap) | processes | PSS |\n|---|---|---|`);
  for (const m of mem) console.log(`| ${m.name} (${m.kind}) | ${m.processes} | ${m.pssMiB.toFixed(1)} MiB |`);
  console.log(`| total | ${mem.reduce((s, m) => s + m.processes, 0)} | ${mem.reduce((s, m) => s + m.pssMiB, 0).toFixed(1)} MiB |`);
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
