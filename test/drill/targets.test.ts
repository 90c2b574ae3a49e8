import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RoundRobinTargets, type ResolvedAddress } from "./targets";

describe("round-robin targets", () => {
  it("takes the members in turn and resolves again only when the TTL ran out", async () => {
    let now = 0;
    const answers: ResolvedAddress[][] = [
      [
        { address: "a", ttl: 30 },
        { address: "b", ttl: 30 },
      ],
      [{ address: "c", ttl: 10 }],
    ];
    let calls = 0;
    const t = new RoundRobinTargets(
      async () => answers[calls++],
      () => now,
    );
    assert.deepEqual([await t.next(), await t.next(), await t.next()], ["a", "b", "a"]);
    now = 29_999;
    assert.equal(await t.next(), "b");
    assert.equal(t.resolutions, 1);
    now = 30_000;
    assert.equal(await t.next(), "c");
    assert.equal(t.resolutions, 2);
  });

  it("concurrent requests share one lookup; an empty answer or a failed lookup fails the request", async () => {
    let calls = 0;
    const t = new RoundRobinTargets(async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      return [{ address: "a", ttl: 30 }];
    });
    await Promise.all([t.next(), t.next(), t.next()]);
    assert.equal(calls, 1);
    await assert.rejects(new RoundRobinTargets(async () => []).next(), /no address/);
    await assert.rejects(new RoundRobinTargets(async () => Promise.reject(new Error("SERVFAIL"))).next(), /SERVFAIL/);
  });
});
