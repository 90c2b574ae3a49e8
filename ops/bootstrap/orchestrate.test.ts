import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Action, NodePlan } from "../../roles/types";
import { hostsInventory, withPrimary, type Role } from "../../model";
import { hostsConfig } from "../../test/configs";
import { FakeExecutor, FakeMachine, fakeMachine } from "../../test/ssh-fake-executor";
import { bootstrapOrder, BootstrapSummary, formatSummary, runBootstrap } from "./orchestrate";

import type { NodeResult } from "./apply";
import { parseHostsSpec } from "../../test/hosts-spec";
/** A node's failure, or undefined when it did not fail (NodeResult carries it on the "failed" branch only). */
const failureOf = (r: NodeResult) => (r.status === "failed" ? r.failure : undefined);

const ROLES: [string, Role][] = [
  ["parent", "parent"],
  ["standby", "standby"],
  ["child-1", "child"],
  ["child-2", "child"],
  ["child-3", "child"],
  ["worker", "worker"],
];

function plan(name: string, role: Role, actions: Action[] = [{ kind: "script", name: `setup-${name}`, script: "true" }]): NodePlan {
  return { node: { name, role, publicAddress: `10.0.0.${name.length}`, privateAddress: "10.1.0.1", zone: "a" }, role, actions, checks: [] };
}

/** A cluster of fake machines; records when each node connected and the peak of nodes at once. */
function fakeCluster(plans: NodePlan[], failScripts: string[] = []) {
  const machines = new Map<string, FakeMachine>(plans.map((p) => [p.node.name, fakeMachine()]));
  for (const s of failScripts) for (const m of machines.values()) m.failScripts.add(s);
  const events: string[] = [];
  let active = 0;
  let peak = 0;
  const lines: string[] = [];
  const connect = async (node: { name: string }) => {
    events.push(`start ${node.name}`);
    active++;
    peak = Math.max(peak, active);
    const ex = new FakeExecutor(node.name, machines.get(node.name)!);
    const close = ex.close.bind(ex);
    ex.close = async () => {
      active--;
      events.push(`end ${node.name}`);
      await close();
    };
    return ex;
  };
  return { machines, events, connect, lines, log: (n: string, l: string) => lines.push(`${n} | ${l}`), peak: () => peak };
}

const unit2 = (content: string): Action => ({
  kind: "file",
  file: { path: "/etc/systemd/system/other.service", content, mode: "0644", owner: "root", group: "root" },
});

const status = (s: BootstrapSummary) => Object.fromEntries(s.results.map((r) => [r.node, r.status]));

describe("bootstrapOrder", () => {
  it("parent first, standby after it, the worker after both, children after the worker (first release) but needing only the parent", () => {
    const o = bootstrapOrder(ROLES.map(([name, role]) => ({ name, role })));
    assert.deepEqual(o.get("parent"), { after: [], dependsOn: [] });
    assert.deepEqual(o.get("standby"), { after: ["parent"], dependsOn: ["parent"] });
    assert.deepEqual(o.get("child-2"), { after: ["parent", "standby", "worker"], dependsOn: ["parent"] });
    assert.deepEqual(o.get("worker"), { after: ["parent", "standby"], dependsOn: ["parent"] });
  });

  it("after a failover the new primary (db-2) goes first and the old one (db-1) follows it as the standby", () => {
    const inv = withPrimary(hostsInventory(parseHostsSpec(hostsConfig(2))), "shop-db-2");
    const o = bootstrapOrder(inv.nodes);
    assert.deepEqual(o.get("shop-db-2"), { after: [], dependsOn: [] });
    assert.deepEqual(o.get("shop-db-1"), { after: ["shop-db-2"], dependsOn: ["shop-db-2"] });
    assert.deepEqual(o.get("shop-child-1"), { after: ["shop-db-2", "shop-db-1", "shop-worker"], dependsOn: ["shop-db-2"] });
    assert.deepEqual(o.get("shop-worker"), { after: ["shop-db-2", "shop-db-1"], dependsOn: ["shop-db-2"] });
  });
});

describe("runBootstrap with fake machines", () => {
  it("runs in order, children in parallel, then a second run reports no changes everywhere", async () => {
    const plans = ROLES.map(([n, r]) => plan(n, r));
    const c = fakeCluster(plans);
    const first = await runBootstrap({ plans, connect: c.connect, log: c.log, concurrency: 4 });
    assert.equal(first.ok, true);
    assert.deepEqual(Object.values(status(first)), Array(6).fill("changed"));
    const idx = (e: string) => c.events.indexOf(e);
    assert.ok(idx("end parent") < idx("start standby"));
    assert.ok(idx("end worker") < idx("start child-1"));
    assert.ok(idx("end standby") < idx("start worker"));
    assert.equal(c.peak(), 3, "children overlap");
    assert.ok(
      c.lines.some((l) => /^child-2 \| script setup-child-2: changed \(\d+ ms\)$/.test(l)),
      c.lines.join("\n"),
    );
    const second = await runBootstrap({ plans, connect: c.connect });
    assert.deepEqual(Object.values(status(second)), Array(6).fill("unchanged"));
    assert.match(formatSummary(second), /^parent +no changes \(\d+\.\d s\)$/m);
  });

  it("bounds parallelism", async () => {
    const plans = ROLES.map(([n, r]) => plan(n, r));
    const c = fakeCluster(plans);
    await runBootstrap({ plans, connect: c.connect, concurrency: 2 });
    assert.equal(c.peak(), 2);
  });

  it("a failing parent skips everything that needs it, naming the step", async () => {
    const plans = ROLES.map(([n, r]) => plan(n, r));
    const c = fakeCluster(plans, ["setup-parent"]);
    const s = await runBootstrap({ plans, connect: c.connect });
    assert.equal(s.ok, false);
    assert.deepEqual(status(s), {
      parent: "failed",
      standby: "skipped",
      "child-1": "skipped",
      "child-2": "skipped",
      "child-3": "skipped",
      worker: "skipped",
    });
    assert.deepEqual(failureOf(s.results[0]), { step: "script setup-parent", code: 1, output: "boom from setup-parent" });
    assert.equal(s.results[1].status === "skipped" ? s.results[1].skippedBecause : undefined, "needs parent failed at script setup-parent");
    const text = formatSummary(s);
    assert.match(text, /parent +FAILED at script setup-parent \(exit 1\):\n +\| boom from setup-parent/);
    assert.match(text, /bootstrap FAILED \(1 failed, 5 skipped\)/);
  });

  it("a failing standby stops nothing else; a failing child stops no other child", async () => {
    const plans = ROLES.map(([n, r]) => plan(n, r));
    const c = fakeCluster(plans, ["setup-standby", "setup-child-2"]);
    const s = await runBootstrap({ plans, connect: c.connect });
    assert.deepEqual(status(s), {
      parent: "changed",
      standby: "failed",
      "child-1": "changed",
      "child-2": "failed",
      "child-3": "changed",
      worker: "changed",
    });
    assert.equal(c.machines.get("child-3")!.scriptsRun.has("setup-child-3"), true);
  });

  it("a node that cannot be reached fails at connect, and its dependants are skipped", async () => {
    const plans = ROLES.map(([n, r]) => plan(n, r));
    const c = fakeCluster(plans);
    const connect = async (node: { name: string }) => {
      if (node.name === "parent") throw new Error("parent: cannot SSH to 10.0.0.6:22 after 8 attempts");
      return c.connect(node);
    };
    const s = await runBootstrap({ plans, connect });
    assert.equal(failureOf(s.results[0])?.step, "connect");
    assert.match(failureOf(s.results[0])!.output, /cannot SSH/);
    assert.equal(status(s).worker, "skipped");
  });

  it("--only: nodes outside the run count as done", async () => {
    const plans = ROLES.filter(([n]) => n === "child-1" || n === "worker").map(([n, r]) => plan(n, r));
    const c = fakeCluster(plans);
    const s = await runBootstrap({ plans, connect: c.connect });
    assert.deepEqual(status(s), { "child-1": "changed", worker: "changed" });
  });

  it("restarts a service only when a file it watches changed in this run; reloads units after a unit file change", async () => {
    const actions: Action[] = [
      { kind: "packages", names: ["nginx"] },
      { kind: "file", file: { path: "/etc/nginx/nginx.conf", content: "v1", mode: "0644", owner: "root", group: "root" } },
      { kind: "file", file: { path: "/etc/systemd/system/app.service", content: "[Service]", mode: "0644", owner: "root", group: "root" } },
      { kind: "service", name: "nginx", state: "started", enabled: true, restartWhen: ["/etc/nginx/nginx.conf"], reload: true },
      { kind: "service", name: "app", state: "started", enabled: true, restartWhen: [] },
    ];
    const plans = [plan("parent", "parent", actions)];
    const c = fakeCluster(plans);
    const m = c.machines.get("parent")!;
    m.services.set("nginx", { enabled: "enabled", active: "active" });
    const first = await runBootstrap({ plans, connect: c.connect });
    assert.deepEqual(first.results[0].changes, [
      "packages: installed nginx",
      "file /etc/nginx/nginx.conf",
      "file /etc/systemd/system/app.service",
      "service nginx: reload",
      "service app: enable, start",
    ]);
    const systemctl = m.log.filter((a) => a[0] === "systemctl").map((a) => a.slice(1, 2).concat(a.slice(3)).join(" "));
    assert.deepEqual(systemctl, ["daemon-reload", "reload nginx", "enable app", "start app"]);
    m.log.length = 0;
    const second = await runBootstrap({ plans, connect: c.connect });
    assert.equal(second.results[0].status, "unchanged");
    assert.equal(m.log.filter((a) => a[0] === "systemctl").length, 0);
  });

  it("a changed unit file makes systemd re-read its units even when no service needs a verb", async () => {
    const unit = (content: string): Action => ({
      kind: "file",
      file: { path: "/etc/systemd/system/app.service.d/limits.conf", content, mode: "0644", owner: "root", group: "root" },
    });
    const p = plan("parent", "parent", [
      unit("a"),
      { kind: "service", name: "app", state: "started", enabled: true, restartWhen: [] },
      unit2("x"),
    ]);
    const c = fakeCluster([p]);
    const m = c.machines.get("parent")!;
    m.services.set("app", { enabled: "enabled", active: "active" });
    await runBootstrap({ plans: [p], connect: c.connect });
    const verbs = () => m.log.filter((a) => a[0] === "systemctl").map((a) => a[1]);
    assert.deepEqual(verbs(), ["daemon-reload", "daemon-reload"], "before the service probe, and after the last unit file");
    m.log.length = 0;
    await runBootstrap({ plans: [p], connect: c.connect });
    assert.deepEqual(verbs(), [], "nothing changed: no reload");
  });

  it("systemd re-reads changed unit files before a script runs (scripts may start units, e.g. the volume scripts)", async () => {
    const dropIn: Action = {
      kind: "file",
      file: {
        path: "/etc/systemd/system/postgresql@.service.d/django-ha.conf",
        content: "[Unit]\nRequires=var-lib-postgresql.mount",
        mode: "0644",
        owner: "root",
        group: "root",
      },
    };
    const p = plan("parent", "parent", [dropIn, { kind: "script", name: "volume-db", script: "true" }]);
    const c = fakeCluster([p]);
    const m = c.machines.get("parent")!;
    await runBootstrap({ plans: [p], connect: c.connect });
    const order = m.log
      .filter((a) => (a[0] === "systemctl" && a[1] === "daemon-reload") || a.some((x) => String(x).includes("script-volume-db")))
      .map((a) => (a[0] === "systemctl" ? "daemon-reload" : "script"));
    assert.deepEqual(order, ["daemon-reload", "script"]);
  });

  it("a unit (re)started in this run is not restarted or reloaded again for changes it already picked up", async () => {
    const conf = (content: string): Action => ({
      kind: "file",
      file: { path: "/etc/pg.conf", content, mode: "0644", owner: "root", group: "root" },
    });
    const hba = (content: string): Action => ({
      kind: "file",
      file: { path: "/etc/pg_hba.conf", content, mode: "0644", owner: "root", group: "root" },
    });
    const actions = (c: string, h: string, later: string): Action[] => [
      conf(c),
      hba(h),
      { kind: "service", name: "pg", state: "started", enabled: true, restartWhen: ["/etc/pg.conf"] },
      { kind: "service", name: "pg", state: "started", enabled: true, restartWhen: ["/etc/pg_hba.conf"], reload: true },
      { kind: "script", name: later, script: "true" },
      { kind: "service", name: "pg", state: "started", enabled: true, restartWhen: [], restartAfterScripts: [later], reload: true },
    ];
    const p = plan("parent", "parent", actions("a", "a", "roles"));
    const c = fakeCluster([p]);
    const m = c.machines.get("parent")!;
    m.services.set("pg", { enabled: "enabled", active: "active" });
    const first = await runBootstrap({ plans: [p], connect: c.connect });
    // Both files changed before the restart: no reload for pg_hba; the script after it does need the reload.
    assert.deepEqual(first.results[0].changes, [
      "file /etc/pg.conf",
      "file /etc/pg_hba.conf",
      "service pg: restart",
      "script roles",
      "service pg: reload",
    ]);
    const second = await runBootstrap({ plans: [{ ...p, actions: actions("a", "b", "roles") }], connect: c.connect });
    assert.deepEqual(second.results[0].changes, ["file /etc/pg_hba.conf", "service pg: reload"], "only pg_hba changed: reload, no restart");
  });

  it("--diff reports what would change and changes nothing: no writes, installs, scripts, systemctl or checks", async () => {
    const actions: Action[] = [
      { kind: "packages", names: ["nginx"] },
      { kind: "file", file: { path: "/etc/nginx/nginx.conf", content: "v2", mode: "0644", owner: "root", group: "root" } },
      { kind: "file", file: { path: "/etc/same.conf", content: "same", mode: "0644", owner: "root", group: "root" } },
      { kind: "script", name: "migrate", script: "true" },
      { kind: "service", name: "nginx", state: "started", enabled: true, restartWhen: ["/etc/nginx/nginx.conf"] },
    ];
    const p = plan("parent", "parent", actions);
    p.checks = [{ name: "never", script: "unhealthy", attempts: 1 }];
    const c = fakeCluster([p]);
    const m = c.machines.get("parent")!;
    m.files.set("/etc/nginx/nginx.conf", { content: "v1", mode: "644", owner: "root", group: "root" });
    m.files.set("/etc/same.conf", { content: "same", mode: "644", owner: "root", group: "root" });
    m.services.set("nginx", { enabled: "enabled", active: "active" });
    const s = await runBootstrap({ plans: [p], connect: c.connect, readOnly: true, log: c.log });
    assert.equal(s.ok, true);
    assert.deepEqual(s.results[0].changes, [
      "packages: would install nginx",
      "file /etc/nginx/nginx.conf (content)",
      "service nginx: would restart",
    ]);
    assert.equal(m.files.get("/etc/nginx/nginx.conf")!.content, "v1");
    assert.equal(m.packages.size, 0);
    assert.equal(m.scriptsRun.size, 0);
    assert.deepEqual(
      m.log.filter((a) => a[0] === "systemctl" || a[1] === "-euo"),
      [],
    );
    assert.ok(c.lines.includes("parent | script migrate: not run (--diff)"));
    assert.match(formatSummary(s), /parent +3 differences .*\n[\s\S]*diff \(nothing changed\) finished: 1 node/);
  });

  it("retries checks, then reports the last output", async () => {
    const p = plan("parent", "parent", []);
    p.checks = [{ name: "db answers", script: "unhealthy", attempts: 3 }];
    const c = fakeCluster([p]);
    const s = await runBootstrap({ plans: [p], connect: c.connect, checkIntervalMs: 1 });
    assert.deepEqual(failureOf(s.results[0]), {
      step: "check db answers",
      code: undefined,
      output: "failed 3 attempts; last output:\nnot yet",
    });
    assert.equal(c.machines.get("parent")!.log.filter((a) => a[1] === "-euo").length, 3);
  });

  it("refuses bad plans before touching any node, listing every problem", async () => {
    const bad = plan("parent", "parent", [
      { kind: "file", file: { path: "etc/x", content: "", mode: "644x", owner: "root", group: "root" } },
      { kind: "service", name: "nginx", state: "started", enabled: true, restartWhen: ["/etc/nope"] },
    ]);
    const c = fakeCluster([bad, plan("standby", "standby")]);
    await assert.rejects(runBootstrap({ plans: [bad, plan("standby", "standby")], connect: c.connect }), (e: Error) => {
      assert.match(e.message, /3 problems; nothing was changed/);
      assert.match(e.message, /path "etc\/x" must be an absolute file path/);
      assert.match(e.message, /mode "644x" must be an octal string such as "0644"/);
      assert.match(e.message, /restartWhen names "\/etc\/nope", which no earlier file action/);
      return true;
    });
    assert.deepEqual(c.events, []);
  });
});
