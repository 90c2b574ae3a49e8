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
 * Prints a markdown table for docs/benchmarks.md. Timings are never asserted.
 */
import { performance } from "node:perf_hooks";
import { labDown, labRemoveVolumes, labUp } from "../lab";
import { labBootstrapHook } from "../lab";
import { recordMembers } from "../model";
import { AGENT, agentState, issueOn, onNode, pauseAgent, untilEveryChildServes, writeDns01Config } from "../test/acme-lab";

interface Round {
  http01: number;
  dns01: number;
  renew: number;
  children: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[]) => `${median(xs).toFixed(1)} s (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;

async function main(): Promise<void> {
  const at = process.argv.indexOf("--rounds");
  const rounds = at >= 0 ? Number(process.argv[at + 1]) : 3;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds ${process.argv[at + 1]}: a whole number ≥ 1, e.g. --rounds 3`);
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
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
