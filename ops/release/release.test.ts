import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { UserError } from "../../model/errors";
import {
  childrenToRevert,
  deployPlan,
  isReleaseId,
  previousRelease,
  releaseId,
  releasesToPrune,
  reusableRelease,
  rollbackTarget,
  type ReleaseInfo,
} from "./release";

const r = (id: string, extra: Partial<ReleaseInfo> = {}): ReleaseInfo => ({ id, ready: true, failed: false, ...extra });
const ID = (n: number, hash = "abcdef012345") => `202612010${String(n).padStart(5, "0")}-${hash}`;

describe("release ids", () => {
  it("are the UTC build time and 12 hex of the source hash", () => {
    assert.equal(releaseId(new Date("2026-12-01T09:05:07.900Z"), "0123456789abcdef0123"), "20261201090507-0123456789ab");
    assert.ok(isReleaseId("20261201090507-0123456789ab"));
    assert.ok(!isReleaseId("current"));
    assert.ok(!isReleaseId("20261201090507-0123456789AB"));
    assert.throws(() => releaseId(new Date(), "xyz"), /not lower-case hex/);
  });

  it("sort by build time as strings (property)", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("2000-01-01"), max: new Date("2099-12-31"), noInvalidDate: true }),
        fc.date({ min: new Date("2000-01-01"), max: new Date("2099-12-31"), noInvalidDate: true }),
        (a, b) => {
          const ia = releaseId(a, "aaaaaaaaaaaa");
          const ib = releaseId(b, "aaaaaaaaaaaa");
          const sa = Math.floor(a.getTime() / 1000);
          const sb = Math.floor(b.getTime() / 1000);
          return Math.sign(sa - sb) === Math.sign(ia < ib ? -1 : ia > ib ? 1 : 0);
        },
      ),
    );
  });
});

describe("rollback target", () => {
  const releases = [r(ID(1)), r(ID(2), { failed: true }), r(ID(3)), r(ID(4), { ready: false }), r(ID(5))];

  it("is the newest usable release before the current one (failed and unfinished ones skipped)", () => {
    assert.equal(rollbackTarget({ releases, current: ID(5) }), ID(3));
    assert.equal(rollbackTarget({ releases, current: ID(3) }), ID(1));
    assert.equal(previousRelease(releases, ID(3)), ID(1));
  });

  it("--to names any usable release", () => {
    assert.equal(rollbackTarget({ releases, current: ID(1), to: ID(5) }), ID(5));
  });

  it("refuses what cannot run, naming the value and what there is", () => {
    const cases: [Parameters<typeof rollbackTarget>[0], RegExp][] = [
      [{ releases, current: ID(1) }, /No release older than the current one \(20261201000001-abcdef012345\).*--to/],
      [{ releases, current: undefined }, /no current release.*npm run deploy/],
      [{ releases, current: ID(5), to: "last" }, /--to "last" is not a release id.*Releases on the share: 20261201000001/],
      [{ releases, current: ID(5), to: ID(9) }, /--to 20261201000009-abcdef012345: no such release/],
      [{ releases, current: ID(5), to: ID(2) }, /found that release unhealthy/],
      [{ releases, current: ID(5), to: ID(4) }, /never finished/],
    ];
    for (const [input, message] of cases)
      assert.throws(
        () => rollbackTarget(input),
        (e: unknown) => e instanceof UserError && message.test(e.message),
      );
  });
});

describe("retention", () => {
  const now = new Date("2026-12-02T00:00:00Z");

  it("keeps the newest 5 usable releases and deletes older ones, failed ones and stale unfinished builds", () => {
    const releases = [1, 2, 3, 4, 5, 6, 7].map((n) => r(ID(n))).concat([r(ID(8), { failed: true }), r(ID(9), { ready: false })]);
    assert.deepEqual(releasesToPrune({ releases, live: [ID(7)], now }), [ID(1), ID(2), ID(8), ID(9)]);
  });

  it("leaves an unfinished build alone while it may still be running", () => {
    const young = releaseId(new Date(now.getTime() - 60_000), "aaaaaaaaaaaa");
    assert.deepEqual(releasesToPrune({ releases: [r(young, { ready: false })], live: [], now }), []);
  });

  it("never deletes a live release, nor the one before it, whatever keep says (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
        fc.integer({ min: 0, max: 8 }),
        fc.nat(),
        (ns, failed, keep, pick) => {
          const releases = ns.map((n, i) => r(ID(n), { failed: failed[i] }));
          const live = ID(ns[pick % ns.length]);
          const deleted = new Set(releasesToPrune({ releases, live: [live], keep, now }));
          const previous = previousRelease(releases, live);
          const usableLeft = releases.filter((x) => x.ready && !x.failed && !deleted.has(x.id)).length;
          const usableAll = releases.filter((x) => x.ready && !x.failed).length;
          return !deleted.has(live) && (!previous || !deleted.has(previous)) && usableLeft >= Math.min(keep, usableAll);
        },
      ),
    );
  });
});

describe("deploy plan", () => {
  it("builds and migrates once on the worker before any child, children one at a time, then Celery, current, prune", () => {
    const steps = deployPlan({ children: ["c1", "c2"], worker: "w", reuse: false, celery: true }).map(
      (s) => `${s.kind}${"node" in s ? ` ${s.node}` : ""}`,
    );
    assert.deepEqual(steps, [
      "upload w",
      "build w",
      "migrate w",
      "switch-child c1",
      "switch-child c2",
      "switch-worker w",
      "current",
      "prune",
    ]);
    const reused = deployPlan({ children: ["c1"], worker: "w", reuse: true, celery: false }).map((s) => s.kind);
    assert.deepEqual(reused, ["migrate", "switch-child", "switch-worker", "current", "prune"]);
  });

  it("refuses an inventory without children", () => {
    assert.throws(() => deployPlan({ children: [], worker: "w", reuse: false, celery: true }), /no child/);
  });

  it("puts children back newest switch first, the failed one included", () => {
    assert.deepEqual(childrenToRevert(["c1", "c2"], "c3"), ["c3", "c2", "c1"]);
    assert.deepEqual(childrenToRevert(["c1", "c2"], "c2"), ["c2", "c1"]);
    assert.deepEqual(childrenToRevert([], undefined), []);
  });

  it("reuses a finished release of the same source, never a failed one", () => {
    const releases = [r(ID(1), { sourceHash: "aa" }), r(ID(2), { sourceHash: "aa", failed: true }), r(ID(3), { sourceHash: "bb" })];
    assert.equal(reusableRelease(releases, "aa"), ID(1));
    assert.equal(reusableRelease(releases, "cc"), undefined);
  });
});
