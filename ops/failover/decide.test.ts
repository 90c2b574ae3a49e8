import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../../model/errors";
import type { PgStatus } from "./commands/database";
import { assessPrimary, chooseFence, emergencyAllowed, failoverSteps, standbyReadiness, type PrimaryProbes } from "./decide";

const writable: PgStatus = { up: true, recovery: false, readOnly: false, replicas: [] };
const standbyStatus: PgStatus = {
  up: true,
  recovery: true,
  receiveLsn: "0/5",
  replayLsn: "0/5",
  receiver: "none",
  receiptAgeSeconds: 12,
  replicas: [],
};
const probes = (p: Partial<PrimaryProbes>): PrimaryProbes => ({
  primary: "db-1",
  operatorSsh: { reachable: true, pg: writable },
  members: [{ node: "db-2", answers: true, detail: "answers" }],
  ...p,
});
const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

describe("assessPrimary", () => {
  const cases: [string, Partial<PrimaryProbes>, string][] = [
    ["this machine and every member see it accept writes", {}, "healthy"],
    ["the provider says it is off", { powerRunning: false }, "down"],
    [
      "no SSH, no member sees its port",
      { operatorSsh: { reachable: false, error: "ECONNREFUSED" }, members: [{ node: "db-2", answers: false, detail: "no answer" }] },
      "down",
    ],
    [
      "SSH works but PostgreSQL is down, members see nothing",
      {
        operatorSsh: { reachable: true, pg: { up: false, replicas: [] } },
        members: [{ node: "db-2", answers: false, detail: "no answer" }],
      },
      "down",
    ],
    [
      "this machine sees it, a member does not (partition)",
      {
        members: [
          { node: "db-2", answers: true, detail: "answers" },
          { node: "c-1", answers: false, detail: "timeout" },
        ],
      },
      "disputed",
    ],
    [
      "no SSH from here but members still reach its port",
      { operatorSsh: { reachable: false }, members: [{ node: "db-2", answers: true, detail: "answers" }] },
      "disputed",
    ],
    ["it answers but is read-only", { operatorSsh: { reachable: true, pg: { ...writable, readOnly: true } } }, "disputed"],
  ];
  for (const [name, p, verdict] of cases) it(`${verdict}: ${name}`, () => assert.equal(assessPrimary(probes(p)).verdict, verdict));

  it("lists every observation with who saw what", () => {
    const a = assessPrimary(probes({ powerRunning: true }));
    assert.deepEqual(
      a.observations.map((o) => `${o.from}|${o.alive}|${o.detail}`),
      ["operator|true|running", "operator|true|PostgreSQL accepts writes", "db-2|true|answers"],
    );
  });
});

describe("emergencyAllowed", () => {
  it("refuses a healthy primary with the evidence and the switchover command", () => {
    assert.throws(
      () => emergencyAllowed(assessPrimary(probes({})), "db-1", "prod"),
      userError(
        /^Refusing an emergency failover: the primary db-1 is healthy\.\n {2}alive {2}from operator: .*\n {2}alive {2}from db-2: .*--stack prod --planned/s,
      ),
    );
  });
  it("refuses without any member's view", () => {
    assert.throws(
      () => emergencyAllowed(assessPrimary(probes({ members: [], powerRunning: false })), "db-1", "prod"),
      userError(/no cluster member could be asked/),
    );
  });
  it("lets a dead or disputed primary through", () => {
    emergencyAllowed(assessPrimary(probes({ powerRunning: false })), "db-1", "prod");
    emergencyAllowed(assessPrimary(probes({ members: [{ node: "db-2", answers: false, detail: "x" }] })), "db-1", "prod");
  });
});

describe("standbyReadiness", () => {
  const base = { standby: "db-2", policy: "strict" as const, acceptDataLoss: false, stack: "prod", graceSeconds: 10 };
  it("strict: promoting loses nothing, says so with the LSNs", () => {
    const r = standbyReadiness({ ...base, status: standbyStatus });
    assert.equal(r.alreadyPrimary, false);
    assert.match(
      r.lines.join("\n"),
      /received up to 0\/5, replayed up to 0\/5.*last message from the primary 12 s ago\n.*strict.*loses none/s,
    );
  });
  it("degrade-to-async: refused without --accept-data-loss, showing the possible loss; accepted with it", () => {
    assert.throws(
      () => standbyReadiness({ ...base, policy: "degrade-to-async", status: standbyStatus }),
      userError(/^Refusing to promote db-2 without your acceptance of a possible loss:.*only on the old primary.*--accept-data-loss/s),
    );
    const r = standbyReadiness({ ...base, policy: "degrade-to-async", status: standbyStatus, acceptDataLoss: true });
    assert.match(r.lines.at(-1)!, /accepted/);
  });
  it("an unreachable or stopped standby cannot be promoted; an already promoted one is reported", () => {
    assert.throws(
      () => standbyReadiness({ ...base, sshError: "ETIMEDOUT" }),
      userError(/unreachable over SSH \(ETIMEDOUT\): there is nothing to promote/),
    );
    assert.throws(
      () => standbyReadiness({ ...base, status: { up: false, replicas: [], error: "refused" } }),
      userError(/does not answer \(refused\)/),
    );
    assert.equal(standbyReadiness({ ...base, status: writable }).alreadyPrimary, true);
  });
});

describe("chooseFence", () => {
  it("power when the stack has it; a command or the operator's word on hosts; never silently nothing", () => {
    assert.deepEqual(chooseFence("db-1", { power: "ec2", interactive: false }), { kind: "power", describe: "ec2" });
    assert.deepEqual(chooseFence("db-1", { fenceCommand: "ipmitool x", interactive: false }), { kind: "command", command: "ipmitool x" });
    assert.deepEqual(chooseFence("db-1", { operatorFenced: "db-1", interactive: false }), { kind: "operator", node: "db-1" });
    assert.deepEqual(chooseFence("db-1", { interactive: true }), { kind: "operator", node: "db-1" });
    assert.deepEqual(chooseFence("db-1", { skipFence: true, power: "ec2", interactive: false }), { kind: "none" });
    assert.throws(
      () => chooseFence("db-1", { interactive: false }),
      userError(
        /No way to fence db-1.*--operator-fenced db-1.*--fence-command.*--skip-fence-risking-two-primaries promotes without a fence: if the old primary still runs, two machines accept writes/s,
      ),
    );
    assert.throws(() => chooseFence("db-1", { operatorFenced: "db-2", interactive: false }), userError(/does not name the primary db-1/));
  });
});

describe("failoverSteps", () => {
  it("emergency establishes, checks and fences before it promotes; planned drains instead and ends with the old primary as standby", () => {
    assert.deepEqual(
      failoverSteps("emergency", "a", "b", { kind: "power", describe: "p" }).map((s) => s.name),
      ["situation", "standby", "fence", "promote", "record", "new-primary", "repoint", "reconnect", "verify"],
    );
    assert.deepEqual(
      failoverSteps("planned", "a", "b", { kind: "none" }).map((s) => s.name),
      ["situation", "drain", "promote", "record", "new-primary", "repoint", "reconnect", "old-primary", "sync", "verify"],
    );
  });
});
