#!/usr/bin/env tsx
/**
 * Emergency failover under a write load, as root (issue 9 item 10; docs/benchmarks.md):
 *   flock /tmp/django-ha-lab.lock npm run bench:failover -- [--drills 5] [--writes 10] [--reads 5] [--only ours|pgaf]
 * One lab boot (blank volumes, bootstrapped), then in the same run and with the same load:
 * 1. django-ha: N drills. Each: the load client (test/drill) writes notes and reads the list through the
 *    round-robin name from the lab's outside namespace; the primary is powered off hard (lab power, a power
 *    cut); at once the operator's command runs, `npm run failover -- --stack lab --yes`; the first write the app
 *    acknowledges afterwards ends the outage. Then the old primary is started and rejoined
 *    (`npm run failover -- rejoin --stack lab --yes`), so the next drill cuts the other machine.
 * 2. pg_auto_failover (bench/pgaf.ts, Debian's 2.2, default timings): a monitor on the worker, two data nodes
 *    on the two database machines, the children's app repointed to them; N drills, its primary's machine
 *    powered off the same way, no command run (it fails over by itself); the killed machine is started again
 *    and waited for as the secondary.
 * Per drill: power-off → first acknowledged write (RTO), for django-ha also script start → first write and
 * the script's own duration, reads served while writes were down, and every acknowledged write looked up on
 * the new primary (must be none missing). Prints markdown tables. Timings are never asserted anywhere.
 */
import { Command } from "commander";
import { labDown, labPower, labRemoveVolumes, labSsh, labUp } from "../lab";
import { labBootstrapHook } from "../lab";
import type { Inventory } from "../model";
import { availability, firstSuccessAfter, notesOn, compareWithNode, operator, startLoad, type Sample } from "../test/drill";
import { createPgaf, PGAF_PORT, repointApp, restoreNode, waitSettled, type PgafCluster } from "./pgaf";

const quiet = () => undefined;
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Drill {
  system: "django-ha" | "pg_auto_failover";
  n: number;
  killed: string;
  /** Power-off → first acknowledged write, ms. */
  rtoMs?: number;
  /** django-ha: script start → first acknowledged write, and the script's own wall time, ms. */
  scriptToWriteMs?: number;
  scriptMs?: number;
  reads: { ok: number; total: number };
  writes: { sent: number; acked: number };
  missing: number;
}

async function isPrimary(node: string, port: number): Promise<boolean> {
  const r = await labSsh(node, ["runuser", "-u", "postgres", "--", "psql", "-p", String(port), "-AtXc", "select pg_is_in_recovery()"]);
  return r.code === 0 && r.stdout.trim() === "f";
}

/** Run the load around `provoke`, until a write is acknowledged again (then 3 s more), and measure. */
async function drill(
  inv: Inventory,
  o: { writes: number; reads: number; label: string },
  provoke: () => Promise<{ at: number; scriptStart?: number; scriptMs?: number }>,
  newPrimary: () => Promise<{ node: string; port: number }>,
): Promise<Omit<Drill, "system" | "n" | "killed">> {
  const load = startLoad(inv, { writesPerSecond: o.writes, readsPerSecond: o.reads, label: o.label });
  try {
    await load.waitFor("write", (s) => s.ok, 2 * o.writes);
    const { at, scriptStart, scriptMs } = await provoke();
    const first = await load.waitFor("write", (s) => s.ok && s.start >= at, 1, 300_000);
    await sleep(3000);
    const samples: Sample[] = await load.stop();
    const recovered = firstSuccessAfter(samples, "write", at) ?? first[0];
    const reads = availability(samples, "read", at, recovered.end);
    const target = await newPrimary();
    const check = compareWithNode(samples, await notesOn(target.node, load.idPrefix, target.port));
    return {
      rtoMs: recovered.end - at,
      scriptToWriteMs: scriptStart === undefined ? undefined : recovered.end - scriptStart,
      scriptMs,
      reads: { ok: reads.ok, total: reads.total },
      writes: { sent: samples.filter((s) => s.kind === "write").length, acked: check.acked },
      missing: check.missing.length,
    };
  } finally {
    await load.stop().catch(() => undefined);
  }
}

/** Why the django-ha drills stopped before the number asked for (printed under the tables). */
let stopped: string | undefined;

async function oursDrills(inv0: Inventory, o: { drills: number; writes: number; reads: number }): Promise<Drill[]> {
  const results: Drill[] = [];
  let primary = inv0.primary;
  let standby = inv0.standby;
  for (let n = 1; n <= o.drills; n++) {
    const inv: Inventory = { ...inv0, primary, standby };
    log(`django-ha drill ${n}: power off ${primary}, then npm run failover -- --stack lab --yes`);
    let script = { code: 0, out: "", ms: 0 };
    const measured = await drill(
      inv,
      { ...o, label: `bench-ours-${n}` },
      async () => {
        const at = Date.now();
        await labPower().fence(primary);
        const scriptStart = Date.now();
        script = await operator("failover", ["--stack", "lab", "--yes"]);
        if (script.code !== 0) throw new Error(`the failover exited ${script.code}:\n${script.out}`);
        return { at, scriptStart, scriptMs: script.ms };
      },
      async () => {
        if (!(await isPrimary(standby, 5432))) throw new Error(`${standby} is not the primary after the failover:\n${script.out}`);
        return { node: standby, port: 5432 };
      },
    );
    results.push({ system: "django-ha", n, killed: primary, ...measured });
    log(`django-ha drill ${n}: ${JSON.stringify(measured)}`);
    [primary, standby] = [standby, primary];
    // After the last drill too: the cluster ends whole (pg_auto_failover's formation needs both machines) and
    // every rejoin is part of what is measured to work.
    {
      log(`django-ha drill ${n}: start ${standby} and rejoin it as the standby`);
      await labPower().start(standby);
      const rejoin = await operator("failover", ["rejoin", "--stack", "lab", "--yes"], 600_000);
      if (rejoin.code !== 0) {
        // No standby, no next drill: say so in the results and go on with pg_auto_failover in the same run.
        stopped = `after drill ${n}, npm run failover -- rejoin exited ${rejoin.code}: ${rejoin.out.trim().split("\n").slice(-3).join(" / ")}`;
        log(`django-ha: ${stopped}`);
        break;
      }
    }
  }
  return results;
}

async function pgafDrills(inv: Inventory, o: { drills: number; writes: number; reads: number }): Promise<Drill[]> {
  const c: PgafCluster = await createPgaf(inv, log);
  await repointApp(inv, c);
  const cidr = `${c.monitor.address.split(".").slice(0, 3).join(".")}.0/24`;
  const results: Drill[] = [];
  for (let n = 1; n <= o.drills; n++) {
    const primary = await waitSettled(c);
    const other = c.nodes.find((x) => x.node !== primary)!.node;
    log(`pg_auto_failover drill ${n}: power off ${primary}`);
    const measured = await drill(
      inv,
      { ...o, label: `bench-pgaf-${n}` },
      async () => {
        const at = Date.now();
        await labPower().fence(primary);
        return { at };
      },
      async () => {
        if (!(await isPrimary(other, PGAF_PORT))) throw new Error(`${other} is not pg_auto_failover's primary after the failover`);
        return { node: other, port: PGAF_PORT };
      },
    );
    results.push({ system: "pg_auto_failover", n, killed: primary, ...measured });
    log(`pg_auto_failover drill ${n}: ${JSON.stringify(measured)}`);
    if (n < o.drills) await restoreNode(c, primary, (node) => labPower().start(node), cidr);
  }
  return results;
}

const s = (ms: number | undefined) => (ms === undefined ? "–" : `${(ms / 1000).toFixed(1)} s`);
const pct = (r: { ok: number; total: number }) => (r.total ? `${((100 * r.ok) / r.total).toFixed(0)} % (${r.ok}/${r.total})` : "–");

function median(values: number[]): number | undefined {
  if (!values.length) return undefined;
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

function print(all: Drill[]): void {
  console.log(
    "\n| system | drill | powered off | power-off → first write | script start → first write | script | reads served while writes were down | acked writes | lost |",
  );
  console.log("|---|---:|---|---:|---:|---:|---:|---:|---:|");
  for (const d of all) {
    console.log(
      `| ${d.system} | ${d.n} | ${d.killed} | ${s(d.rtoMs)} | ${s(d.scriptToWriteMs)} | ${s(d.scriptMs)} | ${pct(d.reads)} | ${d.writes.acked}/${d.writes.sent} | ${d.missing} |`,
    );
  }
  console.log(
    "\n| system | drills | power-off → first write, median (max) | script start → first write, median (max) | reads served while writes were down | acked writes lost |",
  );
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const system of ["django-ha", "pg_auto_failover"] as const) {
    const ds = all.filter((d) => d.system === system);
    if (!ds.length) continue;
    const rto = ds.map((d) => d.rtoMs!);
    const script = ds.filter((d) => d.scriptToWriteMs !== undefined).map((d) => d.scriptToWriteMs!);
    const reads = ds.reduce((a, d) => ({ ok: a.ok + d.reads.ok, total: a.total + d.reads.total }), { ok: 0, total: 0 });
    const acked = ds.reduce((a, d) => a + d.writes.acked, 0);
    console.log(
      `| ${system} | ${ds.length} | ${s(median(rto))} (${s(Math.max(...rto))}) | ${script.length ? `${s(median(script))} (${s(Math.max(...script))})` : "– (no script: automatic)"} | ${pct(reads)} | ${ds.reduce((a, d) => a + d.missing, 0)} of ${acked} |`,
    );
  }
}

async function main(): Promise<void> {
  const opts = new Command()
    .option("--drills <n>", "emergency drills per system", "5")
    .option("--writes <n>", "writes per second through the round-robin name", "10")
    .option("--reads <n>", "reads per second through the round-robin name", "5")
    .option("--only <system>", "ours | pgaf (default: both, ours first)")
    .parse()
    .opts<{ drills: string; writes: string; reads: string; only?: string }>();
  const o = { drills: Number(opts.drills), writes: Number(opts.writes), reads: Number(opts.reads) };
  if (opts.only && !["ours", "pgaf"].includes(opts.only)) throw new Error(`--only ${opts.only}: use ours or pgaf`);
  const started = Date.now();
  await labDown({ log: quiet });
  await labRemoveVolumes({ log: quiet });
  try {
    let ok = false;
    const { inventory } = await labUp({ log: quiet, afterBoot: [labBootstrapHook({ onSummary: (x) => (ok = x.ok) })] });
    if (!ok) throw new Error("the lab's bootstrap failed");
    log(
      `lab up and bootstrapped (${s(Date.now() - started)}); load ${o.writes} writes/s + ${o.reads} reads/s through ${inventory.recordFqdn}`,
    );
    const all: Drill[] = [];
    if (opts.only !== "pgaf") all.push(...(await oursDrills(inventory, o)));
    if (opts.only !== "ours") all.push(...(await pgafDrills(inventory, o)));
    print(all);
    if (stopped) console.log(`\ndjango-ha drills stopped early: ${stopped}`);
    console.log(`\n(${all.length} drills, ${s(Date.now() - started)} in all)`);
  } finally {
    await labDown({ log: quiet });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
