import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { backoffSeconds, DEFAULT_BACKOFF, maxAttemptsInAnyHour } from "./backoff";

describe("backoff", () => {
  it("doubles from the base and stops at the cap", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 50].map((f) => backoffSeconds(f, DEFAULT_BACKOFF)),
      [0, 300, 600, 1200, 2400, 4800, 9600, 19200, 21600, 21600],
    );
  });

  it("with the defaults (300 s, cap 21600 s) allows at most 4 attempts in any hour: inside Let's Encrypt's 5 failed validations per name per hour", () => {
    assert.equal(maxAttemptsInAnyHour(DEFAULT_BACKOFF), 4);
  });

  it("counts dense backoffs honestly (a cap equal to the base retries every base seconds)", () => {
    assert.equal(maxAttemptsInAnyHour({ baseSeconds: 300, capSeconds: 300 }), 12);
    assert.equal(maxAttemptsInAnyHour({ baseSeconds: 60, capSeconds: 21600 }), 6);
  });

  it("never waits less than the base nor more than the cap, and never shrinks (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 200 }),
        (base, extra, f) => {
          const b = { baseSeconds: base, capSeconds: base + extra };
          const d = backoffSeconds(f, b);
          assert.ok(d >= base && d <= b.capSeconds);
          assert.ok(backoffSeconds(f + 1, b) >= d);
        },
      ),
    );
  });
});
