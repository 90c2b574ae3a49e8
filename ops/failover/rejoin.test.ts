import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fixtureInventory } from "../../roles/fixtures";
import { withPrimary, type InventoryNode } from "../../model";
import type { RemoteExecutor, RunResult } from "../ssh/executor";
import type { Argv } from "../../roles/shell";
import { decideRejoin, parseLsn, parseTimelineHistory, rejoinStandby, type RejoinFacts } from "./rejoin";

const history = parseTimelineHistory("1\t0/5000000\tno recovery target specified\n");
const facts = (node: Partial<RejoinFacts["node"]>, extra: Partial<RejoinFacts> = {}): RejoinFacts => ({
  primary: { inRecovery: false, timeline: 2, history },
  node: { streamingFromPrimary: false, timeline: 1, endLsn: "0/4000000", ...node },
  force: false,
  ...extra,
});

describe("rejoin: LSNs and timeline history", () => {
  it("compares LSNs as 64-bit numbers", () => {
    assert.ok(parseLsn("1/0") > parseLsn("0/FFFFFFFF"));
    assert.equal(parseLsn("0/5000000"), 0x5000000n);
    assert.throws(() => parseLsn("5000000"), /not an LSN/);
  });
  it("reads a history file (comments and blank lines skipped)", () => {
    assert.deepEqual(parseTimelineHistory("1\t0/3000148\tno recovery target specified\n\n2\t0/9000000\tbefore 2026\n"), [
      { timeline: 1, switchpoint: "0/3000148" },
      { timeline: 2, switchpoint: "0/9000000" },
    ]);
  });
});

describe("rejoin: decideRejoin (every case)", () => {
  it("refuses while the current primary is in recovery", () => {
    const d = decideRejoin(facts({}, { primary: { inRecovery: true, timeline: 2, history } }));
    assert.equal(d.ok, false);
    assert.match(d.reason, /finish the failover first/);
  });
  it("already streaming: nothing to do on PostgreSQL", () => {
    assert.deepEqual(decideRejoin(facts({ streamingFromPrimary: true })), {
      ok: true,
      method: "already",
      reason: "it already streams from the current primary",
    });
  });
  it("WAL ends at or before the fork: follow the new timeline as it is", () => {
    for (const endLsn of ["0/4000000", "0/5000000"]) {
      const d = decideRejoin(facts({ endLsn }));
      assert.ok(d.ok && d.method === "follow", JSON.stringify(d));
    }
  });
  it("past the fork without a commit record: pg_rewind", () => {
    const d = decideRejoin(facts({ endLsn: "0/5000100", commitsPastFork: 0 }));
    assert.ok(d.ok && d.method === "rewind", JSON.stringify(d));
  });
  it("past the fork with commit records: refused with how many and the range, unless forced", () => {
    const refused = decideRejoin(facts({ endLsn: "0/5000100", commitsPastFork: 3 }));
    assert.equal(refused.ok, false);
    assert.match(
      refused.reason,
      /^3 transactions committed past the fork \(0\/5000000 → 0\/5000100\) exist on this node only — writes the primary lacks/,
    );
    assert.match(refused.reason, /--force/);
    const forced = decideRejoin(facts({ endLsn: "0/5000100", commitsPastFork: 1 }, { force: true }));
    assert.ok(forced.ok && forced.method === "rewind" && /1 transaction committed/.test(forced.reason), JSON.stringify(forced));
  });
  it("a timeline the primary's history does not know (promoted on its own): refused unless forced, then a base backup", () => {
    const f = facts({ timeline: 3, endLsn: "0/6000000" });
    assert.equal(decideRejoin(f).ok, false);
    assert.match(decideRejoin(f).reason, /timeline 3 is not in the primary's history/);
    const forced = decideRejoin({ ...f, force: true });
    assert.ok(forced.ok && forced.method === "basebackup");
  });
  it("the primary's own timeline without being its standby: refused unless forced, then a base backup", () => {
    const f = facts({ timeline: 2, endLsn: "0/6000000" });
    assert.equal(decideRejoin(f).ok, false);
    const forced = decideRejoin({ ...f, force: true });
    assert.ok(forced.ok && forced.method === "basebackup");
  });
  it("asks for the commit count when the WAL goes past the fork", () => {
    assert.throws(() => decideRejoin(facts({ endLsn: "0/6000000" })), /count its commit records first/);
  });
});

/** Answers the rejoin's programs from fixed outputs (by a fragment of the program text), recording what ran. */
class Scripted implements RemoteExecutor {
  ran: string[] = [];
  constructor(
    readonly node: string,
    private readonly answers: [fragment: string, out: Partial<RunResult>][],
  ) {}
  async run(argv: Argv): Promise<RunResult> {
    const program = argv[2] ?? "";
    const hit = this.answers.find(([f]) => program.includes(f));
    this.ran.push(hit ? hit[0] : program.slice(0, 40));
    return { code: 0, stdout: "", stderr: "", truncated: false, ...(hit?.[1] ?? {}) };
  }
  async putFile(): Promise<void> {}
  async close(): Promise<void> {}
}

describe("rejoin: the run (scripted nodes)", () => {
  const inv = fixtureInventory();
  const after = withPrimary(inv, inv.standby);
  const primaryAnswers = (): [string, Partial<RunResult>][] => [
    [
      "select pg_is_in_recovery()')\"\ntl=",
      { stdout: `recovery=f\ntimeline=2\nhistory=${Buffer.from("1\t0/5000000\tno recovery target specified\n").toString("base64")}\n` },
    ],
    ["pg_create_physical_replication_slot", { stdout: "" }],
    ["pg_reload_conf", { stdout: "sync_names=FIRST 1 (standby)\n" }],
  ];

  it("past the fork with commits: refuses and changes nothing", async () => {
    const p = new Scripted(after.primary, primaryAnswers());
    const n = new Scripted(after.standby, [["pg_waldump", { stdout: "streaming=0\ntimeline=1\nend=0/5000100\ncommits=2\n" }]]);
    const connect = async (node: InventoryNode) => (node.name === after.primary ? p : n);
    await assert.rejects(
      rejoinStandby({ inventory: after, connect, confirm: async () => true }),
      /Not rejoining .*: 2 transactions committed past the fork/,
    );
    assert.ok(
      !n.ran.some((r) => r.includes("pg_rewind")) && !p.ran.includes("pg_create_physical_replication_slot"),
      `ran: ${n.ran} / ${p.ran}`,
    );
  });

  it("before the fork: asks, prepares the primary, follows, waits for streaming, converges the pair, restores sync", async () => {
    const p = new Scripted(after.primary, primaryAnswers());
    const n = new Scripted(after.standby, [
      ["pg_waldump", { stdout: "streaming=0\ntimeline=1\nend=0/4000000\n" }],
      ["method=$1", { stdout: "method=follow\n" }],
      ["sleep 1", { stdout: "streaming\n" }],
    ]);
    const asked: string[] = [];
    const converged: string[][] = [];
    const r = await rejoinStandby({
      inventory: after,
      connect: async (node) => (node.name === after.primary ? p : n),
      confirm: async (q) => (asked.push(q), true),
      converge: async (_i, nodes) => (converged.push(nodes), { ok: true, text: "" }),
      noStandbyOverride: "/etc/postgresql/17/main/conf.d/zz-django-ha-failover.conf",
    });
    assert.equal(r.method, "follow");
    assert.equal(r.done, true);
    assert.equal(asked.length, 1);
    assert.match(asked[0], /restart its PostgreSQL as a standby/);
    assert.deepEqual(converged, [[after.primary, after.standby]]);
    assert.deepEqual(n.ran, ["pg_waldump", "method=$1", "sleep 1"]);
    assert.deepEqual(p.ran, ["select pg_is_in_recovery()')\"\ntl=", "pg_create_physical_replication_slot", "pg_reload_conf"]);
    assert.match(r.summary.join("\n"), /synchronous_standby_names = 'FIRST 1 \(standby\)'/);
  });

  it("--dry-run observes and plans only", async () => {
    const p = new Scripted(after.primary, primaryAnswers());
    const n = new Scripted(after.standby, [["pg_waldump", { stdout: "streaming=0\ntimeline=1\nend=0/5000100\ncommits=0\n" }]]);
    const r = await rejoinStandby({
      inventory: after,
      connect: async (node) => (node.name === after.primary ? p : n),
      confirm: async () => assert.fail("no question in a dry run"),
      dryRun: true,
    });
    assert.deepEqual([r.method, r.done], ["rewind", false]);
    assert.deepEqual(n.ran, ["pg_waldump", "pg_waldump"], "observed twice: end of WAL, then the commits past the fork");
  });
});
