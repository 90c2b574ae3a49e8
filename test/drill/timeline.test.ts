import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  ackedIds,
  availability,
  drillFigures,
  firstFailure,
  firstSuccessAfter,
  formatTimeline,
  longestOutage,
  outageMs,
  outages,
  type Sample,
} from "./timeline";

let seq = 0;
/** A write at `start` ms taking `ms`, ok or not, to child a or b. */
const w = (start: number, ok: boolean, ms = 10, target = "10.0.0.1"): Sample => ({
  kind: "write",
  seq: seq++,
  id: `t-${start}`,
  target,
  start,
  end: start + ms,
  ok,
  status: ok ? 201 : 0,
  ...(ok ? {} : { error: "ECONNREFUSED" }),
});
const r = (start: number, ok: boolean, ms = 10): Sample => ({
  kind: "read",
  seq: seq++,
  target: "10.0.0.2",
  start,
  end: start + ms,
  ok,
  status: ok ? 200 : 503,
});

describe("drill timeline", () => {
  const run = [
    w(0, true),
    w(100, true),
    r(150, true),
    w(200, false),
    r(250, false),
    w(300, false, 4000),
    r(350, true),
    w(400, true, 50),
    w(500, true),
    w(600, false),
    w(700, true, 5),
  ];

  it("acknowledged ids are exactly the successful writes", () => {
    assert.deepEqual(ackedIds(run), ["t-0", "t-100", "t-400", "t-500", "t-700"]);
    assert.throws(() => ackedIds([{ ...w(0, true), id: undefined }]), /carries no id/);
  });

  it("first failure and first success after it, by start time", () => {
    assert.equal(firstFailure(run, "write")?.start, 200);
    assert.equal(firstFailure(run, "write", 550)?.start, 600);
    assert.equal(firstFailure(run, "read")?.start, 250);
    assert.equal(firstSuccessAfter(run, "write", 200)?.start, 400);
    // The one that finished first wins, not the one that started first.
    assert.equal(firstSuccessAfter([w(0, true, 100), w(10, true, 20)], "write", 0)?.start, 10);
    assert.equal(firstSuccessAfter(run, "write", 800), undefined);
  });

  it("outages run from the first failed start to the end of the next success; the longest counts open ones to the end", () => {
    assert.deepEqual(outages(run, "write"), [
      { from: 200, to: 450, failed: 2 },
      { from: 600, to: 705, failed: 1 },
    ]);
    assert.equal(outageMs(longestOutage(run, "write", 1000)!, 1000), 250);
    const unfinished = [w(0, true), w(100, false)];
    assert.deepEqual(outages(unfinished, "write"), [{ from: 100, failed: 1 }]);
    assert.equal(outageMs(longestOutage(unfinished, "write", 5000)!, 5000), 4900);
    assert.equal(longestOutage([w(0, true)], "write", 10), undefined);
  });

  it("availability counts requests started in the window", () => {
    assert.deepEqual(availability(run, "read", 200, 400), { from: 200, to: 400, total: 2, ok: 1, ratio: 0.5 });
    assert.ok(Number.isNaN(availability(run, "read", 1000, 2000).ratio));
  });

  it("drill figures: counts, the outage and the reads while writes were down, per target", () => {
    const f = drillFigures(run, { since: 150 });
    assert.deepEqual(f.writes, { sent: 8, acked: 5, failed: 3 });
    assert.deepEqual(f.reads, { sent: 3, ok: 2, failed: 1 });
    assert.equal(f.firstWriteFailure?.start, 200);
    assert.equal(f.firstWriteAfterFailure?.start, 400);
    assert.equal(f.longestWriteOutageMs, 250);
    assert.deepEqual(f.readsDuringOutage && { total: f.readsDuringOutage.total, ok: f.readsDuringOutage.ok }, { total: 2, ok: 1 });
    assert.deepEqual(f.byTarget, { "10.0.0.1": { total: 8, failed: 3 }, "10.0.0.2": { total: 3, failed: 1 } });
    assert.equal(drillFigures([w(0, true)]).firstWriteFailure, undefined);
  });

  it("the printed timeline has a line per request, relative to the first", () => {
    assert.match(formatTimeline([w(1000, true)], 1500), /^ *-0\.500 s write/);
    const text = formatTimeline([w(1000, true, 12), w(1500, false, 3)]);
    assert.deepEqual(
      text.split("\n").map((l) => l.trim()),
      ["+0.000 s write 10.0.0.1        ok 201 12 ms t-1000", "+0.500 s write 10.0.0.1        FAIL ECONNREFUSED 3 ms t-1500"],
    );
  });

  it("property: outages never overlap, are ordered, and hold every failed request", () => {
    const arb = fc.array(
      fc.record({ start: fc.integer({ min: 0, max: 10_000 }), ms: fc.integer({ min: 0, max: 500 }), ok: fc.boolean() }),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(arb, (rows) => {
        const samples = rows.map((x) => w(x.start, x.ok, x.ms));
        const found = outages(samples, "write");
        assert.equal(
          found.reduce((n, o) => n + o.failed, 0),
          samples.filter((s) => !s.ok).length,
        );
        for (let i = 1; i < found.length; i++) assert.ok(found[i].from >= found[i - 1].from);
        for (const o of found) if (o.to !== undefined) assert.ok(o.to >= o.from);
      }),
    );
  });
});
