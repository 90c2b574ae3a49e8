import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  decide,
  DEFAULT_POLICY,
  initialState,
  noteDnsCall,
  type AgentState,
  type Child,
  type HealthPolicy,
  type ProbeResult,
} from "./decide";

const kids = (n: number): Child[] => Array.from({ length: n }, (_, i) => ({ name: `c${i + 1}`, address: `10.0.0.${i + 1}` }));

/** Run ticks (one every `stepMs`) through decide, applying every change to the record as the agent would. */
function simulate(children: Child[], ticks: boolean[][], policy: HealthPolicy = DEFAULT_POLICY, stepMs = 2000) {
  let state: AgentState = initialState();
  let record = children.map((c) => c.address);
  const history: { at: number; op: string; name: string; line: string; failures: number; successes: number; record: string[] }[] = [];
  const logs: string[] = [];
  ticks.forEach((oks, i) => {
    const now = i * stepMs;
    const probes: ProbeResult[] = children.map((c, j) => ({ name: c.name, ok: oks[j], detail: oks[j] ? "200" : "502" }));
    const d = decide(state, { children, probes, record, now }, policy);
    state = d.state;
    logs.push(...d.log);
    if (d.change) {
      const c = d.change;
      record = c.op === "remove" ? record.filter((a) => a !== c.child.address) : [...record, c.child.address];
      const s = state.children[c.child.name];
      history.push({
        at: now,
        op: c.op,
        name: c.child.name,
        line: d.log[d.log.length - 1],
        failures: s.failures,
        successes: s.successes,
        record: [...record],
      });
    }
  });
  return { record, history, logs, state };
}

const scenario = fc
  .integer({ min: 1, max: 5 })
  .chain((n) =>
    fc.tuple(fc.constant(n), fc.array(fc.array(fc.boolean(), { minLength: n, maxLength: n }), { minLength: 1, maxLength: 120 })),
  );

describe("the health agent's decisions", () => {
  it("removes a member after 3 consecutive failures, not before; puts it back after 2 good probes; one log line each", () => {
    const c = kids(2);
    const ticks = [
      [false, true],
      [false, true],
      [true, true],
      [false, true],
      [false, true],
      [false, true],
      [true, true],
      [true, true],
    ];
    const { history, logs, record } = simulate(c, ticks);
    assert.deepEqual(
      history.map((h) => `${h.at / 2000}:${h.op} ${h.name}`),
      ["5:remove c1", "7:add c1"],
    );
    assert.deepEqual(logs, [
      "removed c1 (10.0.0.1) from the record: 3 consecutive failed probes (last: 502)",
      "added back c1 (10.0.0.1) to the record: 2 consecutive good probes",
    ]);
    assert.deepEqual(record.sort(), ["10.0.0.1", "10.0.0.2"]);
  });

  it("never removes the last member: all failing keeps the record as it is, said once", () => {
    const { history, logs, record } = simulate(
      kids(2),
      Array.from({ length: 10 }, () => [false, false]),
    );
    assert.deepEqual(history, []);
    assert.deepEqual(record, ["10.0.0.1", "10.0.0.2"]);
    assert.deepEqual(logs, ["every child in the record fails: the record keeps 10.0.0.1, 10.0.0.2 (fail open; never the last member)"]);
    const one = simulate(kids(2), [...Array.from({ length: 3 }, () => [false, true]), ...Array.from({ length: 5 }, () => [false, false])]);
    assert.deepEqual(one.record, ["10.0.0.2"], "c1 left; c2, the last member, stays although it fails");
  });

  it("rate limits DNS calls, counting the agent's reads, and says so once", () => {
    const policy = { ...DEFAULT_POLICY, maxDnsCallsPerMinute: 2 };
    let state = noteDnsCall(noteDnsCall(initialState(), 0), 1000);
    const c = kids(2);
    const bad = c.map((x, i) => ({ name: x.name, ok: i === 1, detail: "timeout after 2 s" }));
    const d1 = decide(state, { children: c, probes: bad, record: ["10.0.0.1", "10.0.0.2"], now: 2000 }, policy);
    state = decide(d1.state, { children: c, probes: bad, record: ["10.0.0.1", "10.0.0.2"], now: 4000 }, policy).state;
    const d3 = decide(state, { children: c, probes: bad, record: ["10.0.0.1", "10.0.0.2"], now: 6000 }, policy);
    assert.equal(d3.change, undefined);
    assert.deepEqual(d3.log, ["remove c1 waits: 2 DNS calls in the last 60 s (rate limit)"]);
    const d4 = decide(d3.state, { children: c, probes: bad, record: ["10.0.0.1", "10.0.0.2"], now: 8000 }, policy);
    assert.deepEqual(d4.log, [], "the wait is logged once");
    const d5 = decide(d4.state, { children: c, probes: bad, record: ["10.0.0.1", "10.0.0.2"], now: 60_500 }, policy);
    assert.equal(d5.change?.op, "remove", "once the window has room");
  });

  it("ignores probes of nodes that are not its children, and never touches addresses it does not know", () => {
    const d = decide(initialState(), {
      children: kids(1),
      probes: [{ name: "stranger", ok: false, detail: "x" }],
      record: ["10.0.0.1", "192.0.2.9"],
      now: 0,
    });
    assert.deepEqual(d.state.children, {});
    assert.equal(d.change, undefined);
  });

  it("property: the record never becomes empty, and every change is earned, logged once with its reason", () => {
    fc.assert(
      fc.property(scenario, ([n, ticks]) => {
        const { history, logs } = simulate(kids(n), ticks);
        for (const h of history) {
          assert.ok(h.record.length >= 1, "never empty");
          if (h.op === "remove")
            assert.ok(
              h.failures >= DEFAULT_POLICY.failuresToRemove &&
                h.line.includes(`removed ${h.name} `) &&
                h.line.includes("consecutive failed probes"),
            );
          else assert.ok(h.successes >= DEFAULT_POLICY.successesToRestore && h.line.includes(`added back ${h.name} `));
        }
        const changeLines = logs.filter((l) => /^(removed|added back) /.test(l));
        assert.equal(changeLines.length, history.length, "one log line per change");
      }),
      { numRuns: 300 },
    );
  });

  it("property: no more DNS writes in any 60 s than the limit allows", () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 1, max: 4 }), ([n, ticks], limit) => {
        const { history } = simulate(
          kids(n),
          ticks,
          { ...DEFAULT_POLICY, maxDnsCallsPerMinute: limit, failuresToRemove: 1, successesToRestore: 1 },
          1000,
        );
        for (const h of history) assert.ok(history.filter((x) => x.at > h.at - 60_000 && x.at <= h.at).length <= limit);
      }),
      { numRuns: 300 },
    );
  });

  it("property: with steady probes the record settles on the healthy children (all of them when none is healthy)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((n) => fc.array(fc.boolean(), { minLength: n, maxLength: n })),
        (oks) => {
          const c = kids(oks.length);
          const { record } = simulate(
            c,
            Array.from({ length: 30 }, () => oks),
          );
          const healthy = c.filter((_, i) => oks[i]).map((x) => x.address);
          assert.deepEqual([...record].sort(), (healthy.length ? healthy : c.map((x) => x.address)).sort());
        },
      ),
    );
  });
});
