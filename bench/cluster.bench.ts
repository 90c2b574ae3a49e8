#!/usr/bin/env tsx
/**
 * The cluster in the lab, as root (docs/benchmarks.md):
 *   npx tsx bench/cluster.bench.ts [--duration 10] [--connections 16]
 * 1. bootstrap wall time of bare nodes with 1 child vs 4 children (stacks/Pulumi.lab-wide.yaml; the 1-child
 *    run bootstraps parent, standby, worker and lab-child-1 only), and the re-run ("no changes") time per node;
 * 2. requests/s on one child with wrk (run in the child's own network namespace, on its loopback):
 *    through nginx (HTTPS) → uWSGI socket, vs a second uWSGI of the same ini answering HTTP directly.
 * Prints markdown tables. Timings are never asserted anywhere. Traffic stays inside the lab.
 */
import { spawnSync } from "node:child_process";
import { Command } from "commander";
import { labBootstrapHook, labDown, labSource, labSsh, labUp } from "../lab";
import { netnsName } from "../lab/net";
import { bootstrapStack, type BootstrapSummary } from "../ops/bootstrap";

const STACK = "lab-wide";
const quiet = () => undefined;

async function bootstrapRun(only: string[] | undefined): Promise<{ first: BootstrapSummary; again: BootstrapSummary }> {
  await labDown({ log: quiet });
  let first: BootstrapSummary | undefined;
  await labUp({ stack: STACK, log: quiet, afterBoot: [labBootstrapHook({ stack: STACK, only, onSummary: (s) => (first = s) })] });
  if (!first?.ok) throw new Error(`bootstrap failed: ${JSON.stringify(first?.results.filter((r) => r.status === "failed"))}`);
  const { summary: again } = await bootstrapStack({ stack: STACK, sources: [labSource()], only, log: quiet });
  if (again.results.some((r) => r.status !== "unchanged")) throw new Error("the re-run changed something");
  return { first, again };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** wrk inside the child's network namespace; returns requests/s and latency lines. */
function wrk(node: string, url: string, o: { duration: number; connections: number }): { rps: number; latency: string; errors: string } {
  const r = spawnSync(
    "ip",
    ["netns", "exec", netnsName(node), "wrk", "-t2", `-c${o.connections}`, `-d${o.duration}s`, "-H", "Host: www.lab.test", url],
    { encoding: "utf8" },
  );
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT")
    throw new Error("wrk is not installed: apt-get install -y wrk (npm test installs it with the test packages)");
  if (r.status !== 0) throw new Error(`wrk ${url}: ${r.stderr}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  const latency = /Latency\s+(\S+)\s+(\S+)\s+(\S+)/.exec(r.stdout);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1] ?? "0";
  return { rps, latency: latency ? `${latency[1]} avg, ${latency[3]} max` : "?", errors };
}

async function main(): Promise<void> {
  const o = new Command()
    .option("--duration <s>", "seconds per wrk run", "10")
    .option("--connections <n>", "wrk connections", "16")
    .parse()
    .opts<{ duration: string; connections: string }>();
  const load = { duration: Number(o.duration), connections: Number(o.connections) };

  const one = await bootstrapRun(["lab-db-1", "lab-db-2", "lab-worker", "lab-child-1"]);
  const four = await bootstrapRun(undefined);

  console.log("\n| cluster | first bootstrap (bare nodes) | re-run (no changes) |\n|---|---:|---:|");
  console.log(`| 1 child (+ parent, standby, worker) | ${seconds(one.first.durationMs)} | ${seconds(one.again.durationMs)} |`);
  console.log(`| 4 children (+ parent, standby, worker) | ${seconds(four.first.durationMs)} | ${seconds(four.again.durationMs)} |`);
  console.log("\n| node | first run | re-run |\n|---|---:|---:|");
  for (const r of four.first.results) {
    const again = four.again.results.find((x) => x.node === r.node)!;
    console.log(`| ${r.node} | ${seconds(r.durationMs)} | ${seconds(again.durationMs)} |`);
  }

  // A second uWSGI from the same ini, on HTTP instead of the unix socket, so wrk can reach it directly.
  const child = "lab-child-1";
  const start = [
    "set -euo pipefail",
    "sed -e 's|^socket = .*|http-socket = 127.0.0.1:8001|' -e '/^chmod-socket/d' -e '/^touch-chain-reload/d' -e '/^procname/d' /etc/django-ha/uwsgi.ini > /tmp/bench-uwsgi.ini",
    "printf 'for-readline = /etc/django-ha/app.env\\n  env = %%(_)\\nendfor =\\n' >> /tmp/bench-uwsgi.ini",
    "runuser -u django -- uwsgi --ini /tmp/bench-uwsgi.ini --daemonize /tmp/bench-uwsgi.log --pidfile /tmp/bench-uwsgi.pid",
    "for _ in $(seq 50); do curl -fs -o /dev/null -H 'Host: www.lab.test' http://127.0.0.1:8001/notes/ && exit 0; sleep 0.2; done; cat /tmp/bench-uwsgi.log >&2; exit 1",
  ].join("\n");
  const s = await labSsh(child, ["bash", "-c", start]);
  if (s.code !== 0) throw new Error(`direct uWSGI did not start: ${s.stderr}`);
  const viaNginx = wrk(child, "https://127.0.0.1/notes/", load);
  const direct = wrk(child, "http://127.0.0.1:8001/notes/", load);
  await labSsh(child, ["bash", "-c", "uwsgi --stop /tmp/bench-uwsgi.pid; rm -f /tmp/bench-uwsgi.*"]);

  console.log(`\nGET /notes/ on ${child}, wrk -t2 -c${load.connections} -d${load.duration}s:\n`);
  console.log("| path | requests/s | latency | non-2xx |\n|---|---:|---|---:|");
  console.log(`| nginx (HTTPS) → uWSGI unix socket | ${viaNginx.rps.toFixed(0)} | ${viaNginx.latency} | ${viaNginx.errors} |`);
  console.log(`| uWSGI directly (HTTP socket, same ini) | ${direct.rps.toFixed(0)} | ${direct.latency} | ${direct.errors} |`);
  await labDown({ log: quiet });
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
