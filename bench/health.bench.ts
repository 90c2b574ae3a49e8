#!/usr/bin/env tsx
/**
 * A dead child's time in the round-robin record, and what a visitor pays for it (issue 11 item 5;
 * docs/benchmarks.md), as root:
 *   flock /tmp/django-ha-lab.lock npm run bench:health -- [--trials 3] [--reads 5] [--window 60]
 * One lab boot (blank volumes, bootstrapped; the lab stack's health agent: 1 s rounds, 1 s probe limit, 3 failures).
 * Per trial: the drill's load client (test/drill/client.ts: resolves the name through the lab DNS honouring the
 * 30 s TTL, one address per request, a new connection each time, 5 s limit) reads at a steady rate; a child is
 * powered off hard (lab power); for `window` seconds the record is polled every 0.25 s and every request is
 * counted. "before": the health agent stopped on both database machines (what the cluster did before issue 11:
 * the dead child stays in the record); "after": the agent running. Then the child is started and waited for.
 * Prints a markdown table. Timings are never asserted anywhere.
 */
import { Command } from "commander";
import { labDns, labDown, labPower, labRemoveVolumes, labSsh, labUp } from "../lab";
import { labBootstrapHook } from "../lab";
import { HEALTH_SERVICE } from "../roles/health";
import { recordMembers, type Inventory } from "../model";
import { startLoad } from "../test/drill";

const quiet = () => undefined;
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Trial {
  mode: "before" | "after";
  n: number;
  /** Power-off → the record no longer lists the child, ms; undefined: still listed at the end of the window. */
  removedMs?: number;
  reads: { ok: number; total: number };
  /** Power-off → the last failed read, ms. */
  lastFailureMs?: number;
}

async function members(fqdn: string): Promise<string[]> {
  return (await labDns().listMembers(fqdn)).map((m) => m.address);
}

async function agent(inv: Inventory, action: "start" | "stop"): Promise<void> {
  for (const node of [inv.primary, inv.standby]) {
    const r = await labSsh(node, ["systemctl", action, HEALTH_SERVICE]);
    if (r.code !== 0) throw new Error(`systemctl ${action} ${HEALTH_SERVICE} on ${node}: ${r.stderr}`);
  }
}

/** Until the record lists every child again and each answers /health/ (after a start, a boot), ms. */
async function waitWhole(inv: Inventory, limitMs: number): Promise<void> {
  const want = recordMembers(inv)
    .map((c) => c.publicAddress)
    .sort()
    .join(",");
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    if ((await members(inv.recordFqdn)).sort().join(",") === want) return;
    await sleep(500);
  }
  throw new Error(`the record did not list every child again within ${s(limitMs)}`);
}

async function trial(inv: Inventory, mode: Trial["mode"], n: number, o: { reads: number; windowS: number }): Promise<Trial> {
  const victim = recordMembers(inv)[n % recordMembers(inv).length];
  const load = startLoad(inv, { writesPerSecond: 0, readsPerSecond: o.reads, label: `health-${mode}` });
  let removedMs: number | undefined;
  let t0 = 0;
  let samples;
  try {
    await load.waitFor("read", (x) => x.ok, 2 * o.reads);
    t0 = Date.now();
    await labPower().fence(victim.name);
    log(`${mode} #${n}: ${victim.name} powered off`);
    while (Date.now() - t0 < o.windowS * 1000) {
      if (removedMs === undefined && !(await members(inv.recordFqdn)).includes(victim.publicAddress)) removedMs = Date.now() - t0;
      await sleep(250);
    }
  } finally {
    samples = await load.stop();
    await labPower().start(victim.name);
  }
  {
    const window = samples.filter((x) => x.kind === "read" && x.start >= t0 && x.start < t0 + o.windowS * 1000);
    const failed = window.filter((x) => !x.ok);
    log(
      `${mode} #${n}: ${failed.length}/${window.length} reads failed; removed ${removedMs === undefined ? "never" : `after ${s(removedMs)}`}`,
    );
    // "before": the agent is stopped, so the record never changed; after: it puts the child back.
    if (mode === "before") await agent(inv, "start");
    await waitWhole(inv, 240_000);
    if (mode === "before") await agent(inv, "stop");
    const lastFailure = failed.at(-1);
    return {
      mode,
      n,
      ...(removedMs !== undefined ? { removedMs } : {}),
      reads: { ok: window.length - failed.length, total: window.length },
      ...(lastFailure ? { lastFailureMs: lastFailure.start - t0 } : {}),
    };
  }
}

function print(trials: Trial[], windowS: number): void {
  console.log(
    `\n| health agent | trial | dead child out of the record | failed reads in the ${windowS} s after the power-off | last failed read |`,
  );
  console.log("|---|---|---|---|---|");
  for (const t of trials) {
    const pct = t.reads.total ? (100 * (t.reads.total - t.reads.ok)) / t.reads.total : 0;
    console.log(
      `| ${t.mode === "before" ? "none (before)" : "running (after)"} | ${t.n + 1} | ${t.removedMs === undefined ? `still listed after ${windowS} s` : s(t.removedMs)} | ${t.reads.total - t.reads.ok}/${t.reads.total} (${pct.toFixed(0)} %) | ${t.lastFailureMs === undefined ? "–" : s(t.lastFailureMs)} |`,
    );
  }
}

async function main(): Promise<void> {
  const opts = new Command()
    .description("time a dead child stays in the record, and failed reads of a TTL-honouring client, without and with the health agent")
    .option("--trials <n>", "trials per mode", "3")
    .option("--reads <n>", "reads per second through the round-robin name", "5")
    .option("--window <s>", "seconds counted after each power-off", "60")
    .parse()
    .opts<{ trials: string; reads: string; window: string }>();
  const o = { trials: Number(opts.trials), reads: Number(opts.reads), windowS: Number(opts.window) };
  const started = Date.now();
  await labDown({ log: quiet });
  await labRemoveVolumes({ log: quiet });
  try {
    let ok = false;
    const { inventory } = await labUp({ log: quiet, afterBoot: [labBootstrapHook({ onSummary: (x) => (ok = x.ok) })] });
    if (!ok) throw new Error("the lab's bootstrap failed");
    log(`lab up and bootstrapped (${s(Date.now() - started)})`);
    const trials: Trial[] = [];
    await agent(inventory, "stop");
    for (let n = 0; n < o.trials; n++) trials.push(await trial(inventory, "before", n, o));
    await agent(inventory, "start");
    for (let n = 0; n < o.trials; n++) trials.push(await trial(inventory, "after", n, o));
    print(trials, o.windowS);
    console.log(`\n(${trials.length} trials, ${s(Date.now() - started)} in all)`);
  } finally {
    await labDown({ log: quiet });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
