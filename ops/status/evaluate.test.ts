import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { labInv, NOW, probeOutput } from "../../test/status-fixtures";
import { DEFAULT_THRESHOLDS, evaluate, liveChildren, withFindings } from "./evaluate";
import { parseProbe } from "./probe";
import type { ClusterStatus } from "./types";

const inv = labInv();
const children = inv.nodes.filter((n) => n.role === "child");

/** A gathered status; `over` replaces a node's probe keys, `record` the record's addresses. */
function gathered(
  over: Record<string, Record<string, string[] | undefined>> = {},
  record: string[] | null = children.map((c) => c.publicAddress),
): Omit<ClusterStatus, "findings" | "healthy"> {
  const nodes = inv.nodes.map((n) => parseProbe(n, probeOutput(n, inv, over[n.name] ?? {})));
  return {
    stack: "lab",
    cluster: inv.cluster,
    takenAt: NOW.toISOString(),
    primary: inv.primary,
    standby: inv.standby,
    syncReplication: inv.syncReplication,
    record: {
      fqdn: inv.recordFqdn,
      members: record && record.map((a) => ({ name: inv.nodes.find((n) => n.publicAddress === a)?.name ?? a, address: a })),
      ...(record ? {} : { error: "SERVFAIL" }),
    },
    nodes,
  };
}
const problems = (s: Omit<ClusterStatus, "findings" | "healthy">) =>
  evaluate(s, NOW)
    .filter((f) => f.severity === "problem")
    .map((f) => `${f.subject}: ${f.message}`);

describe("what needs a human", () => {
  it("a healthy cluster has no problems and exits 0", () => {
    const s = withFindings(gathered(), NOW);
    assert.deepEqual(s.findings, []);
    assert.equal(s.healthy, true);
    assert.deepEqual(
      liveChildren(s.nodes).map((n) => n.name),
      ["lab-child-1", "lab-child-2"],
    );
  });

  it("a child whose uWSGI is stopped: the unit, its health answer, and its place in the record", () => {
    const p = problems(
      gathered({
        "lab-child-1": {
          system: ["degraded"],
          failed: ["django-ha-uwsgi.service"],
          unit: ["ssh.service active", "nftables.service active", "django-ha-uwsgi.service failed", "nginx.service active"],
          health: ["502 0.002 0"],
        },
      }),
    );
    assert.deepEqual(p, [
      "lab-child-1: systemd is degraded; failed units: django-ha-uwsgi.service (journalctl -u <unit> on the node)",
      "lab-child-1: django-ha-uwsgi.service is failed",
      "lab-child-1: /health/ answers 502",
      "cluster: the record lists lab-child-1 (10.231.0.21), which is not live: visitors sent there fail",
    ]);
  });

  it("a stopped health agent on a database machine needs a human (a dead child would stay in the record)", () => {
    const standby = inv.standby;
    const p = problems(
      gathered({ [standby]: { agent: ["present"], agent_log: [], unit: ["ssh.service active", "django-ha-health.service inactive"] } }),
    );
    assert.deepEqual(p, [`${standby}: django-ha-health.service is inactive`]);
  });

  it("an unreachable node is a problem, and says why", () => {
    const s = gathered();
    const worker = s.nodes.findIndex((n) => n.name === "lab-worker");
    s.nodes[worker] = {
      name: "lab-worker",
      role: "worker",
      address: "10.231.0.31",
      reachable: false,
      error: "unreachable over SSH (Timed out while waiting for handshake)",
      failedUnits: [],
      services: [],
      disks: [],
    };
    assert.deepEqual(problems(s), ["lab-worker: unreachable over SSH (Timed out while waiting for handshake)"]);
  });

  it("replication: none streaming, async, lagging; a standby that is not in recovery", () => {
    assert.match(
      problems(gathered({ [inv.primary]: { replica: undefined } })).join("\n"),
      /no standby is streaming from the primary \(strict synchronous replication: commits wait\)/,
    );
    assert.match(
      problems(gathered({ [inv.primary]: { replica: ["standby\tstreaming\tasync\t0\t"] } })).join("\n"),
      /replication is async, not sync/,
    );
    const lag = problems(
      gathered({ [inv.primary]: { replica: [`standby\tstreaming\tsync\t${DEFAULT_THRESHOLDS.replicationLagBytes + 1}\t31.5`] } }),
    );
    assert.deepEqual(lag, [
      `lab-db-1: the standby is ${DEFAULT_THRESHOLDS.replicationLagBytes + 1} bytes of WAL behind`,
      "lab-db-1: the standby replays 31.5 s behind",
    ]);
    assert.deepEqual(problems(gathered({ [inv.standby]: { pg_recovery: ["f"], standby_lag: undefined } })), [
      "lab-db-2: the recorded standby's PostgreSQL is primary",
    ]);
    assert.match(
      problems(gathered({ [inv.primary]: { pg_recovery: ["t"] } }))[0],
      /the recorded primary's PostgreSQL is standby: see docs\/failover.md/,
    );
  });

  it("the share copy: lsyncd without status, idle, busy, stuck", () => {
    assert.deepEqual(problems(gathered({ [inv.primary]: { lsyncd_age: undefined } })), [
      "lab-db-1: the share's copy to the standby (lsyncd) has never written its status",
    ]);
    assert.deepEqual(
      problems(gathered({ [inv.primary]: { lsyncd_age: ["600"] } })),
      [],
      "idle: lsyncd writes no status while nothing changes",
    );
    assert.deepEqual(
      problems(gathered({ [inv.primary]: { lsyncd_age: ["90"], lsyncd_delays: ["4"] } })),
      [],
      "a queue that moved recently",
    );
    assert.deepEqual(problems(gathered({ [inv.primary]: { lsyncd_age: ["600"], lsyncd_delays: ["4"] } })), [
      "lab-db-1: lsyncd has held 4 changes for 600 s: the share's copy to the standby is stuck (journalctl -u django-ha-share-sync)",
    ]);
  });

  it("disks: a note from 80 %, a problem from 90 %", () => {
    const s = withFindings(gathered({ [inv.standby]: { disk: ["/ 100 85", "/srv/share 100 95"] } }), NOW);
    assert.deepEqual(
      s.findings.map((f) => `${f.severity} ${f.subject}: ${f.message}`),
      ["problem lab-db-2: /srv/share is 95% full", "note lab-db-2: / is 85% full"],
    );
  });

  it("certificates: expired, about to expire, unreadable are problems; the placeholder is a note", () => {
    assert.match(
      problems(gathered({ "lab-child-2": { cert_end: ["Nov 30 07:00:00 2026 GMT"] } }))[0],
      /^lab-child-2: the certificate .* expired at 2026-11-30T07:00:00.000Z$/,
    );
    assert.match(
      problems(gathered({ "lab-child-2": { cert_end: ["Dec 10 07:00:00 2026 GMT"] } }))[0],
      /expires in 9\.0 days .*renewal is not happening/,
    );
    assert.match(
      problems(gathered({ "lab-child-2": { cert_end: ["unable to load certificate"] } }))[0],
      /lab-child-2: certificate: .* openssl could not read it/,
    );
    const placeholder = withFindings(gathered({ "lab-child-2": { cert_selfsigned: ["1"] } }), NOW);
    assert.equal(placeholder.healthy, true);
    assert.match(placeholder.findings[0].message, /self-signed placeholder/);
  });

  it("the record: unreadable, empty, a foreign address, a live child missing", () => {
    assert.deepEqual(problems(gathered({}, null)), ["cluster: cannot read the record www.lab.test: SERVFAIL"]);
    assert.deepEqual(problems(gathered({}, [])), ["cluster: the record www.lab.test has no members: the site does not resolve"]);
    assert.deepEqual(problems(gathered({}, ["10.231.0.21", "10.231.0.11"])), [
      "cluster: the record lists 10.231.0.11, which is not a child of this cluster",
    ]);
    const s = withFindings(gathered({}, ["10.231.0.21"]), NOW);
    assert.equal(s.healthy, true);
    assert.deepEqual(
      s.findings.map((f) => f.message),
      ["lab-child-2 is live but not in the record"],
    );
  });

  it("property: healthy exactly when no finding is a problem; every record member that is not live is a problem", () => {
    const childStates = fc.array(fc.record({ status: fc.constantFrom(200, 502, 503, 0), inRecord: fc.boolean() }), {
      minLength: children.length,
      maxLength: children.length,
    });
    fc.assert(
      fc.property(childStates, (states) => {
        const over = Object.fromEntries(
          children.map((c, i) => [c.name, { health: [`${states[i].status} 0.01 ${states[i].status ? 0 : 7}`] }]),
        );
        const record = children.filter((_, i) => states[i].inRecord).map((c) => c.publicAddress);
        const s = withFindings(gathered(over, record), NOW);
        assert.equal(s.healthy, !s.findings.some((f) => f.severity === "problem"));
        children.forEach((c, i) => {
          const flagged = s.findings.some((f) => f.severity === "problem" && f.message.includes(`lists ${c.name}`));
          assert.equal(flagged, states[i].inRecord && states[i].status !== 200, c.name);
        });
        assert.equal(s.healthy, states.every((x) => x.status === 200) && record.length > 0);
      }),
    );
  });
});
