#!/usr/bin/env tsx
/**
 * Bootstrap engine wall times, as root:  npx tsx bench/bootstrap.bench.ts [--nodes 4]
 * Throwaway nodes from the lab image (systemd-nspawn, private network, SSH through `sshd -i` on a pipe:
 * test/ssh-container.ts) get a plan shaped like the lab child's real plan: its package list (baked in the
 * image, so only probed), its files (same sizes, under /opt/bench), as many no-op scripts, services (dummy
 * units) and checks. Measures a first run and a re-run ("no changes") on 1 node, then on N nodes in
 * parallel. What it leaves out: apt downloads and the roles' own script work (the lab benchmark has those).
 * Prints a markdown table for docs/benchmarks.md. Timings are never asserted.
 */
import { performance } from "node:perf_hooks";
import { ensureImage } from "../lab/image";
import { renderNodePlan } from "../roles";
import type { Action, NodePlan } from "../roles/types";
import { hostsInventory } from "../model";
import { startTestContainer, TestContainer } from "../test/ssh-container";
import { runBootstrap } from "../ops/bootstrap/orchestrate";
import { SshExecutor } from "../ops/ssh/executor";
import { KnownHostsFile } from "../ops/ssh/known-hosts";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hostsStackSpec } from "../test/hosts-spec";

const UNIT = "[Service]\nExecStart=/bin/sleep infinity\nExecReload=/bin/true\n[Install]\nWantedBy=multi-user.target\n";

/** The lab child's real plan, with every action replaced by one of the same kind the engine can apply in isolation. */
function benchPlan(name: string): NodePlan {
  const spec = hostsStackSpec("lab");
  const inventory = hostsInventory(spec);
  const child = inventory.nodes.find((n) => n.role === "child")!;
  const secrets = { dbPassword: "x", replicationPassword: "x", redisPassword: "x", djangoSecretKey: "x", tlsPassphrase: "x" };
  const acme = { certificate: spec.certificate, agentSource: "// the agent is not part of a child's plan\n" };
  const real = renderNodePlan(child, {
    inventory,
    secrets,
    shareMount: "lab-bind",
    appDir: path.resolve(__dirname, "..", "app"),
    adminCidrs: spec.adminCidrs,
    acme,
    app: spec.app,
    appSecrets: {},
    health: { spec: spec.health, agentSource: "// the health agent is not part of a child's plan\n", dnsSecret: "x" },
  });
  let s = 0;
  const actions: Action[] = real.actions.map((a): Action => {
    switch (a.kind) {
      case "packages":
        return a;
      case "file":
        return { kind: "file", file: { ...a.file, path: `/opt/bench${a.file.path}`, owner: "root", group: "root" } };
      case "upload":
        return { ...a, remoteDir: `/opt/bench${a.remoteDir}`, owner: "root", group: "root" };
      case "script":
        return { kind: "script", name: a.name, script: "test -d /opt/bench || true\n" };
      case "service": {
        const unit = `bench-${++s}.service`;
        return { kind: "service", name: unit, state: "started", enabled: true, restartWhen: [] };
      }
    }
  });
  // Unit files first, so the dummy services exist.
  const units: Action[] = Array.from({ length: s }, (_, i) => ({
    kind: "file",
    file: { path: `/etc/systemd/system/bench-${i + 1}.service`, content: UNIT, mode: "0644", owner: "root", group: "root" },
  }));
  const node = { ...child, name };
  return { node, role: "child", actions: [...units, ...actions], checks: real.checks.map((c) => ({ name: c.name, script: "true" })) };
}

async function main() {
  const n = Number(process.argv[process.argv.indexOf("--nodes") + 1]) || 4;
  const image = await ensureImage({ log: () => {} });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-bootstrap-"));
  const containers: TestContainer[] = [];
  try {
    for (let i = 0; i < n; i++) containers.push(await startTestContainer(image.root));
    const byName = new Map(containers.map((c, i) => [`bench-${i + 1}`, c]));
    const connect = (node: { name: string }) => {
      const c = byName.get(node.name)!;
      return SshExecutor.connect(
        {
          node: node.name,
          host: c.name,
          port: 22,
          username: "root",
          privateKey: c.privateKey,
          knownHosts: new KnownHostsFile(path.join(dir, "known_hosts")),
        },
        { openSocket: () => c.openSocket() },
      );
    };
    const plan = benchPlan("bench-1");
    const counts = plan.actions.reduce<Record<string, number>>((m, a) => ((m[a.kind] = (m[a.kind] ?? 0) + 1), m), {});
    const rows: string[] = [];
    const time = async (label: string, plans: NodePlan[]) => {
      const t0 = performance.now();
      const s = await runBootstrap({ plans, connect, concurrency: 4, checkIntervalMs: 500 });
      const wall = (performance.now() - t0) / 1000;
      if (!s.ok) throw new Error(`${label}: ${JSON.stringify(s.results.filter((r) => r.status === "failed"))}`);
      const per = s.results.map((r) => r.durationMs / 1000);
      rows.push(
        `| ${label} | ${plans.length} | ${wall.toFixed(1)} s | ${Math.min(...per).toFixed(1)}–${Math.max(...per).toFixed(1)} s | ${s.results.map((r) => (r.status === "unchanged" ? "no changes" : `${r.changes.length} changes`)).join(", ")} |`,
      );
    };
    // Parallel children need a parent to wait for in real runs; here every node is a child (no ordering).
    await time("first run, 1 node", [plan]);
    await time("re-run, 1 node", [plan]);
    const many = containers.slice(1).map((_, i) => benchPlan(`bench-${i + 2}`));
    await time(`first run, ${many.length} nodes in parallel`, many);
    await time(`re-run, ${many.length} nodes in parallel`, many);
    console.log(
      `Plan per node (shaped like the lab child's): ${Object.entries(counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(", ")}, ${plan.checks.length} checks. Machine: ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}.\n`,
    );
    console.log("| run | nodes | wall time | per node | result |\n|---|---|---|---|---|");
    for (const r of rows) console.log(r);
  } finally {
    for (const c of containers) await c.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
