#!/usr/bin/env tsx
/**
 * ACME in the lab, as root (`npm run bench:acme -- [--rounds 3]`): one lab boot (pebble with 90-day certificates,
 * so nothing renews on its own while it measures) and the bootstrap with its certificate phase, then per round:
 *   issue HTTP-01   `django-ha-acme issue --challenge http-01` on the primary (the agent's self-check on every
 *                   child, pebble's validation through the round robin), as the agent reports it;
 *   issue DNS-01    the same by RFC 2136 on the lab DNS (lab-acme key), TXT record written, validated, removed;
 *   renew           `django-ha-acme renew --force` on the primary (order, write to the share), wall time over SSH;
 *   every child     from the renewal's end until every child serves the new certificate (django-ha-tls-sync every
 *                   10 s; a verified TLS handshake per child every 250 ms).
 * Then the pause drill (`--pauses N`, 0 to skip): N times, the agent's 5-s timer started and a random 0–6 s later
 * paused, once by the lock alone (`systemctl stop` the timer, `flock` the lock) and once by the tests' `pauseAgent`;
 * it counts the pauses after which a run was still queued, starting or running (one would race a test's steps).
 * Prints a markdown table for docs/benchmarks.md. Timings are never asserted.
 */
import { Command } from "commander";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { labDown, labRemoveVolumes, labUp } from "../lab";
import { labBootstrapHook } from "../lab";
import { recordMembers } from "../model";
import {
  AGENT,
  AGENT_IDLE,
  AGENT_LOCK,
  AGENT_TIMER,
  agentState,
  issueOn,
  onNode,
  pauseAgent,
  untilEveryChildServes,
  writeDns01Config,
} from "../test/acme-lab";
import { whole } from "./options";

interface Round {
  http01: number;
  dns01: number;
  renew: number;
  children: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[]) => `${median(xs).toFixed(1)} s (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;

const PAUSES = {
  "the lock alone (stop the timer, flock the lock)": (primary: string) =>
    onNode(primary, ["bash", "-c", `systemctl stop ${AGENT_TIMER} && flock ${AGENT_LOCK} true`]),
  "pauseAgent (stop the timer, wait until no run is queued or starting, then the lock)": pauseAgent,
};

/** Per way of pausing: how many of `pauses` left a run of the agent queued, starting or running. */
async function pauseDrill(primary: string, pauses: number, log: (l: string) => void): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [name, pause] of Object.entries(PAUSES)) {
    counts[name] = 0;
    for (let i = 1; i <= pauses; i++) {
      // reset-failed flushes the timer's start rate limit (5 starts in 10 s), which this loop can reach.
      await onNode(primary, ["bash", "-c", `systemctl reset-failed ${AGENT_TIMER}; systemctl start ${AGENT_TIMER}`]);
      await sleep(Math.random() * 6000);
      await pause(primary);
      if ((await onNode(primary, ["bash", "-c", `if ${AGENT_IDLE}; then echo idle; fi`])).trim() !== "idle") counts[name]++;
    }
    log(`pause drill, ${name}: a run still going after ${counts[name]} of ${pauses}`);
  }
  return counts;
}

async function main(): Promise<void> {
  const { rounds, pauses } = new Command()
    .description("time ACME issuance, renewal and distribution in the lab; count pauses of the agent that leave a run going")
    .option("--rounds <n>", "issue/renew rounds", whole("--rounds", 1), 3)
    .option("--pauses <n>", "pauses per way of pausing in the pause drill (0: skip it)", whole("--pauses", 0), 30)
    .parse()
    .opts<{ rounds: number; pauses: number }>();
  const log = (l: string) => process.stderr.write(`${l}\n`);
  await labDown({ log: () => undefined });
  await labRemoveVolumes({ log: () => undefined });
  const t0 = performance.now();
  const { inventory } = await labUp({ log: () => undefined, afterBoot: [labBootstrapHook({ stack: "lab" })] });
  log(`lab up + bootstrap (with the first certificate): ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const primary = inventory.primary;
  const children = recordMembers(inventory).map((n) => ({ name: n.name, address: n.publicAddress }));
  const fqdn = inventory.recordFqdn;
  const results: Round[] = [];
  let drill: Record<string, number> = {};
  try {
    // The timer would not renew a 90-day certificate anyway; paused so no run overlaps a measured one.
    await pauseAgent(primary);
    await writeDns01Config(primary);
    for (let i = 1; i <= rounds; i++) {
      const http01 = (await issueOn(primary, "http-01", [fqdn], `/root/bench-http-01-${i}`)).seconds;
      const dns01 = (await issueOn(primary, "dns-01", [fqdn], `/root/bench-dns-01-${i}`)).seconds;
      const r0 = performance.now();
      await onNode(primary, [AGENT, "renew", "--force"], 300_000);
      const renew = (performance.now() - r0) / 1000;
      const serial = (await agentState(primary)).serial;
      if (!serial) throw new Error("the agent's state names no serial after renew --force");
      const children_ = (await untilEveryChildServes(children, fqdn, serial)) / 1000;
      results.push({ http01, dns01, renew, children: children_ });
      log(
        `round ${i}: HTTP-01 ${http01.toFixed(1)} s, DNS-01 ${dns01.toFixed(1)} s, renew ${renew.toFixed(1)} s, every child ${children_.toFixed(1)} s`,
      );
    }
    if (pauses > 0) drill = await pauseDrill(primary, pauses, log);
  } finally {
    await labDown({ log: () => undefined });
  }
  console.log(`| measure (lab, pebble 2.6, ${children.length} children, ${rounds} rounds) | median (min–max) |`);
  console.log("|---|---|");
  console.log(
    `| issue by HTTP-01 (agent: self-check on every child, pebble validates through the round robin) | ${fmt(results.map((r) => r.http01))} |`,
  );
  console.log(`| issue by DNS-01 (RFC 2136 TXT with the lab-acme key, validated, removed) | ${fmt(results.map((r) => r.dns01))} |`);
  console.log(
    `| renew (\`django-ha-acme renew --force\` over SSH: order, HTTP-01, write to the share) | ${fmt(results.map((r) => r.renew))} |`,
  );
  console.log(
    `| renewal written → every child serves it (tls-sync every 10 s, verified handshakes) | ${fmt(results.map((r) => r.children))} |`,
  );
  if (pauses > 0) {
    console.log(
      `\n| pausing the agent (its timer every 5 s; paused a random 0–6 s after the timer started) | pauses that left a run going |`,
    );
    console.log("|---|---|");
    for (const [name, n] of Object.entries(drill)) console.log(`| ${name} | ${n} of ${pauses} |`);
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
