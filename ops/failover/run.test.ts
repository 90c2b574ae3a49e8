import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { CHANGED_MARKER } from "../../roles/types";
import { hostsInventory, UserError, withPrimary, type Inventory, type InventoryNode } from "../../model";
import type { PowerOperations } from "../power/types";
import type { RemoteExecutor, RunResult } from "../ssh/executor";
import type { Argv } from "../../roles/shell";
import { peerPostgres, pgStatus } from "./commands/database";
import { newPrimaryServices, promote, restoreSync } from "./commands/promotion";
import { reconnectChild, reconnectWorker } from "./commands/repoint";
import { asStandby, stopOldPrimary } from "./commands/demotion";
import { redisPause, redisReplicaOffset } from "./commands/redis";
import { shareHandover } from "./commands/share";
import type { FenceMethod } from "./decide";
import { runFailover, type FailoverOptions } from "./run";
import { hostsStackSpec } from "../../test/hosts-spec";

const lab = hostsInventory(hostsStackSpec("lab"));

/** A simulated cluster: which nodes run, what PostgreSQL is on each, what every node was told. */
class Sim {
  readonly nodes = new Map<string, { up: boolean; pg: "primary" | "standby" | "down"; hosts?: string; ran: string[] }>();
  failProgram?: string;
  /** Standbys stream from a primary (a planned switchover starts from a streaming pair). */
  streaming = false;
  constructor(readonly inv: Inventory) {
    for (const n of inv.nodes)
      this.nodes.set(n.name, { up: true, pg: n.name === inv.primary ? "primary" : n.name === inv.standby ? "standby" : "down", ran: [] });
  }
  node(name: string) {
    return this.nodes.get(name)!;
  }
  ran(name: string, what: string): number {
    return this.node(name).ran.filter((r) => r === what).length;
  }
  power(stopsIt = true): PowerOperations {
    return {
      describe: "sim power",
      fence: async (n) => {
        if (stopsIt) Object.assign(this.node(n), { up: false, pg: "down" });
      },
      start: async () => {},
      isRunning: async (n) => this.node(n).up,
    };
  }
  connect = async (n: InventoryNode): Promise<RemoteExecutor> => {
    if (!this.node(n.name).up) throw new Error(`${n.name}: cannot SSH to ${n.publicAddress}:22 after 1 attempts: connect ECONNREFUSED`);
    return new SimExec(this, n.name);
  };
}

const known: [string, Argv][] = [
  ["pgStatus", pgStatus()],
  ["peer", peerPostgres("x", 1)],
  ["promote", promote()],
  ["newPrimary", newPrimaryServices({ overrideFile: "", slot: "", redisConf: "", redisPort: 1 })],
  ["reconnectChild", reconnectChild("", "", "", [])],
  ["reconnectWorker", reconnectWorker("", "", "", [])],
  ["redisPause", redisPause("", 1, 1)],
  ["redisOffset", redisReplicaOffset("", 1)],
  ["stopOldPrimary", stopOldPrimary({ unit: "", pgBin: "", pgData: "" })],
  ["shareHandover", shareHandover({ share: "", target: "", sshPort: 1, key: "", syncUnit: "" })],
  ["asStandby", asStandby({ pgData: "", conninfo: "", slot: "" })],
  ["restoreSync", restoreSync("")],
];

class SimExec implements RemoteExecutor {
  constructor(
    private readonly sim: Sim,
    readonly node: string,
  ) {}
  async run(argv: Argv): Promise<RunResult> {
    const me = this.sim.node(this.node);
    const ok = (stdout: string, code = 0): RunResult => ({ code, stdout, stderr: code ? `boom on ${this.node}` : "", truncated: false });
    if (argv[1] === "-euo") return ok(""); // a check (the app's /health/)
    if (argv[2].includes("managed /etc/hosts block")) {
      me.ran.push("hosts");
      me.hosts = argv[2];
      return ok(`${CHANGED_MARKER}\n`);
    }
    const name = known.find(([, k]) => k[2] === argv[2])?.[0];
    if (!name) throw new Error(`unexpected command on ${this.node}: ${argv.join(" ").slice(0, 120)}`);
    me.ran.push(name);
    if (this.sim.failProgram === name) return ok("", 1);
    switch (name) {
      case "pgStatus": {
        if (me.pg === "down") return ok("pg=down\npg_error=refused\n");
        // A primary lists a streaming replica while another database node runs as a standby.
        const streaming = this.sim.streaming && [...this.sim.nodes.values()].some((n) => n !== me && n.up && n.pg === "standby");
        return ok(
          me.pg === "primary"
            ? `pg=up\nrecovery=false\nread_only=off\ncurrent_lsn=0/9\nsync_names=\n${streaming ? "replica=standby,streaming,sync,0/9\n" : ""}`
            : "pg=up\nrecovery=true\nreceive_lsn=0/9\nreplay_lsn=0/9\nreceiver=none\nreceipt_age=3\n",
        );
      }
      case "redisPause":
        return ok("offset=100\n");
      case "redisOffset":
        return ok("offset=100\nlink=up\n");
      case "stopOldPrimary":
        me.pg = "down";
        return ok("checkpoint_lsn=0/8\n");
      case "asStandby":
        me.pg = "standby";
        return ok("");
      case "restoreSync":
        return ok("sync_names=standby\n");
      case "peer": {
        const target = this.sim.inv.nodes.find((n) => n.privateAddress === argv[4])!;
        const t = this.sim.node(target.name);
        return ok(t.up && t.pg !== "down" ? "peer_pg=answers\n" : "peer_pg=no answer (ConnectionRefusedError)\n");
      }
      case "promote":
        if (me.pg === "primary") return ok("already=1\n");
        me.pg = "primary";
        return ok("promoted=1\n");
      case "newPrimary":
        return ok("changed=slot\nchanged=redis-role\n");
      default:
        return ok("changed=done\n");
    }
  }
  async putFile(): Promise<void> {}
  async close(): Promise<void> {}
}

function setup(inv: Inventory = lab) {
  const sim = new Sim(inv);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "failover-"));
  const records: string[] = [];
  const lines: string[] = [];
  const options = (o: Partial<FailoverOptions> = {}): FailoverOptions => ({
    stack: "s",
    kind: "emergency",
    inventory: inv,
    journalFile: path.join(dir, "failover.json"),
    connect: sim.connect,
    power: sim.power(),
    fence: { kind: "power", describe: "sim power" } as FenceMethod,
    record: async (p) => (records.push(p), `recorded ${p}`),
    confirm: async () => true,
    log: (l) => lines.push(l),
    verifyTimeoutMs: 1000,
    ...o,
  });
  return { sim, dir, records, lines, options, journal: path.join(dir, "failover.json") };
}

const children = lab.nodes.filter((n) => n.role === "child");
const worker = lab.nodes.find((n) => n.role === "worker")!;

describe("emergency failover", () => {
  it("a dead primary: fenced, the standby promoted and recorded, every reachable node repointed and reconnected", async () => {
    const t = setup();
    t.sim.node(lab.primary).up = false;
    t.sim.node(lab.primary).pg = "down";
    const r = await runFailover(t.options());
    assert.equal(r.from, lab.primary);
    assert.equal(r.to, lab.standby);
    assert.equal(r.complete, true);
    assert.deepEqual(t.records, [lab.standby]);
    assert.equal(t.sim.ran(lab.standby, "promote"), 1);
    assert.equal(t.sim.ran(lab.standby, "newPrimary"), 1);
    const standby = lab.nodes.find((n) => n.name === lab.standby)!;
    for (const n of [standby, ...children, worker])
      assert.match(
        t.sim.node(n.name).hosts ?? "",
        new RegExp(`${standby.privateAddress.replace(/\./g, "\\.")}\\t${lab.primaryHostname}`),
        n.name,
      );
    for (const c of children) assert.equal(t.sim.ran(c.name, "reconnectChild"), 1);
    assert.equal(t.sim.ran(worker.name, "reconnectWorker"), 1);
    // Order: established and fenced before anything was promoted.
    const steps = t.lines.filter((l) => /✓ /.test(l)).map((l) => /✓ (\S+)/.exec(l)![1]);
    assert.deepEqual(steps.slice(0, 4), ["situation", "standby", "fence", "promote"]);
    assert.match(r.summary.join("\n"), /No standby now: commits are on .* only.*rejoin\) is not built/s);
    assert.equal(fs.existsSync(t.journal), false, "the journal moved to history");
    assert.equal(fs.readdirSync(path.join(t.dir, "failover-history")).length, 1);
  });

  it("a healthy primary is refused with the evidence; nothing is changed and no journal is started", async () => {
    const t = setup();
    await assert.rejects(
      runFailover(t.options()),
      (e: unknown) =>
        e instanceof UserError &&
        /^Refusing an emergency failover: the primary .* is healthy/.test(e.message) &&
        /--planned/.test(e.message),
    );
    assert.equal(t.sim.ran(lab.standby, "promote"), 0);
    assert.equal(t.sim.node(lab.primary).up, true, "not fenced");
    assert.equal(fs.existsSync(t.journal), false);
    assert.deepEqual(t.records, []);
  });

  it("a fence that did not take (PostgreSQL still answers) stops the run before the promotion", async () => {
    const t = setup();
    // Members cannot reach it (a partition), so the situation is disputed and the run goes on to fence it.
    const peer = SimExec.prototype.run;
    let fenced = false;
    const o = t.options({
      power: undefined,
      fence: { kind: "operator", node: lab.primary },
      operatorConfirmsFenced: async () => ((fenced = true), true),
    });
    SimExec.prototype.run = async function (argv: Argv) {
      if (argv[2] === peerPostgres("x", 1)[2] && !fenced)
        return { code: 0, stdout: "peer_pg=no answer (timeout)\n", stderr: "", truncated: false };
      return peer.call(this, argv);
    };
    try {
      await assert.rejects(
        runFailover(o),
        (e: unknown) => e instanceof UserError && /still answers .* it is NOT fenced, nothing was promoted/.test(e.message),
      );
    } finally {
      SimExec.prototype.run = peer;
    }
    assert.equal(t.sim.ran(lab.standby, "promote"), 0);
  });

  it("a power-off that leaves the machine running is not a fence", async () => {
    const t = setup();
    t.sim.node(lab.primary).pg = "down"; // PostgreSQL died, the machine runs
    await assert.rejects(
      runFailover(t.options({ power: t.sim.power(false) })),
      /still runs after the power-off through sim power: not fenced, nothing promoted/,
    );
    assert.equal(t.sim.ran(lab.standby, "promote"), 0);
  });

  it("hosts: a fence command runs for the old primary and is verified from inside the cluster", async () => {
    const t = setup();
    const ran: string[] = [];
    const o = t.options({
      power: undefined,
      fence: { kind: "command", command: "ipmitool chassis power off" },
      runFenceCommand: async (command, node) => {
        ran.push(`${command} @ ${node.name}`);
        Object.assign(t.sim.node(node.name), { up: false, pg: "down" });
      },
    });
    // PostgreSQL died but the machine still runs: disputed until the fence command powers it off.
    t.sim.node(lab.primary).pg = "down";
    const r = await runFailover(o);
    assert.deepEqual(ran, [`ipmitool chassis power off @ ${lab.primary}`]);
    assert.equal(r.to, lab.standby);
    assert.ok(t.lines.some((l) => /verified: .* PostgreSQL no longer answers/.test(l)));
  });

  it("no --yes and no: nothing changed", async () => {
    const t = setup();
    t.sim.node(lab.primary).up = false;
    await assert.rejects(runFailover(t.options({ confirm: async () => false })), /Nothing changed/);
    assert.equal(t.sim.ran(lab.standby, "promote"), 0);
    assert.equal(fs.existsSync(t.journal), false);
  });

  it("an interrupted run is finished by the next one, which skips what was done (the inventory already names the new primary)", async () => {
    const t = setup();
    t.sim.node(lab.primary).up = false;
    t.sim.failProgram = "newPrimary";
    await assert.rejects(runFailover(t.options()), /starting the primary's services failed/);
    assert.ok(fs.existsSync(t.journal));
    t.sim.failProgram = undefined;
    const recorded = withPrimary(lab, lab.standby);
    const r = await runFailover(t.options({ inventory: recorded }));
    assert.equal(r.from, lab.primary, "from the journal, not the recorded inventory");
    assert.equal(r.to, lab.standby);
    assert.equal(t.sim.ran(lab.standby, "promote"), 1, "promoted once");
    assert.equal(t.sim.ran(lab.standby, "newPrimary"), 2);
    assert.ok(t.lines.some((l) => /resuming the run of/.test(l)));
    assert.ok(t.lines.some((l) => /= promote: done by the earlier run/.test(l)));
    assert.equal(fs.existsSync(t.journal), false);
  });

  it("an unreachable child is reported with the bootstrap that fixes it later; the rest is done", async () => {
    const t = setup();
    t.sim.node(lab.primary).up = false;
    t.sim.node(children[1].name).up = false;
    const r = await runFailover(t.options());
    assert.equal(r.complete, false);
    assert.match(
      r.summary.join("\n"),
      new RegExp(`Not done on ${children[1].name} .*npm run bootstrap -- --stack s --only ${children[1].name}`),
    );
    assert.equal(t.sim.ran(children[0].name, "hosts"), 1);
  });

  it("a record that fails does not stop the cluster's repointing; the journal stays for a re-run", async () => {
    const t = setup();
    t.sim.node(lab.primary).up = false;
    const r = await runFailover(t.options({ record: async () => Promise.reject(new UserError("no pulumi here")) }));
    assert.equal(r.complete, false);
    assert.equal(t.sim.ran(worker.name, "reconnectWorker"), 1);
    assert.match(r.summary.join("\n"), /NOT RECORDED: no pulumi here.*journal .* stays/s);
    assert.ok(fs.existsSync(t.journal));
  });

  it("a planned run cannot resume an unfinished emergency one", async () => {
    const t = setup();
    t.sim.node(lab.primary).up = false;
    t.sim.failProgram = "newPrimary";
    await assert.rejects(runFailover(t.options()));
    await assert.rejects(runFailover(t.options({ kind: "planned" })), /emergency failover .* did not finish: finish it first/);
  });
});

describe("planned switchover", () => {
  it("drains the old primary (Redis, PostgreSQL, share), promotes, repoints, makes the old primary the standby and restores sync", async () => {
    const t = setup();
    t.sim.streaming = true;
    const converged: string[][] = [];
    const r = await runFailover(
      t.options({
        kind: "planned",
        fence: { kind: "none" } as FenceMethod,
        converge: async (inv, nodes) => (converged.push([inv.primary, ...nodes]), { ok: true, text: "bootstrap ok" }),
      }),
    );
    assert.equal(r.complete, true, r.summary.join("\n"));
    assert.deepEqual([r.from, r.to], [lab.primary, lab.standby]);
    for (const step of ["redisPause", "stopOldPrimary", "shareHandover", "asStandby"]) assert.equal(t.sim.ran(lab.primary, step), 1, step);
    assert.equal(t.sim.ran(lab.standby, "promote"), 1);
    assert.equal(t.sim.ran(lab.standby, "restoreSync"), 1);
    assert.deepEqual(converged, [[lab.standby, lab.standby, lab.primary]], "the new inventory, both database machines");
    assert.deepEqual(t.records, [lab.standby]);
    assert.equal(t.sim.node(lab.primary).pg, "standby");
    const steps = t.lines.filter((l) => /✓ /.test(l)).map((l) => /✓ (\S+)/.exec(l)![1]);
    // new-primary and repoint run in parallel: either may finish first.
    const parallel = (xs: string[]) => xs.map((x) => (x === "new-primary" || x === "repoint" ? "new-primary|repoint" : x));
    assert.deepEqual(
      parallel(steps),
      parallel(["situation", "drain", "promote", "record", "new-primary", "repoint", "reconnect", "old-primary", "sync", "verify"]),
    );
    assert.match(
      t.lines.join("\n"),
      /PostgreSQL: .* stopped cleanly \(shutdown checkpoint 0\/8\); .* received up to 0\/9: nothing is missing/,
    );
    assert.match(r.summary[0], new RegExp(`planned failover of stack s: ${lab.standby} is the primary, ${lab.primary} its standby`));
  });

  it("refuses when the standby is not streaming, and changes nothing", async () => {
    const t = setup();
    await assert.rejects(
      runFailover(t.options({ kind: "planned", fence: { kind: "none" } as FenceMethod })),
      /Not both healthy, so no switchover/,
    );
    assert.equal(t.sim.ran(lab.primary, "redisPause"), 0);
    assert.equal(fs.existsSync(t.journal), false);
  });
});
