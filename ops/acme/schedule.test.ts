import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { DEFAULT_BACKOFF } from "./backoff";
import { decide, renewalTime, type ScheduleInput, type Window } from "./schedule";
import { emptyState, recordFailure } from "./state";

const DAY = 86400_000;
const T0 = Date.parse("2027-03-01T00:00:00Z");
const cert = (days: number) => ({ notBefore: T0, notAfter: T0 + days * DAY });
const base = (over: Partial<ScheduleInput>): ScheduleInput => ({
  namesMatch: true,
  revoked: false,
  failures: 0,
  force: false,
  now: T0,
  random: 0.5,
  ...over,
});
/** Let's Encrypt-like window: starts at two thirds of the lifetime, lasts 1/45 of it. */
const leWindow = (days: number): Window => ({ start: T0 + (days * DAY * 2) / 3, end: T0 + (days * DAY * 2) / 3 + (days * DAY) / 45 });

describe("renewal schedule scales with the lifetime (90, 64, 45, 6 days)", () => {
  for (const days of [90, 64, 45, 6]) {
    it(`${days}-day certificate without ARI renews when a third is left, and not before`, () => {
      const c = cert(days);
      const at = T0 + (days * DAY * 2) / 3;
      assert.equal(renewalTime(c, undefined, undefined, 0.5).at, at);
      const justBefore = decide(base({ cert: c, now: at - 1000 }));
      assert.equal(justBefore.action, "wait");
      assert.equal(decide(base({ cert: c, now: at })).action, "renew");
      // Sane: after issuance there is a long wait, and a third of the lifetime is left to retry in.
      assert.equal(decide(base({ cert: c, now: T0 + 60_000 })).action, "wait");
      assert.ok(c.notAfter - at >= (days * DAY) / 3 - 1);
      // Not "30 days before expiry" (the same only for 90 days): for 45 days that is day 15, for 6 days before issuance.
      if (days !== 90) assert.notEqual(at, c.notAfter - 30 * DAY);
    });

    it(`${days}-day certificate with ARI renews inside the suggested window`, () => {
      const c = cert(days);
      const w = leWindow(days);
      for (const random of [0, 0.25, 0.999]) {
        const t = renewalTime(c, w, undefined, random);
        assert.ok(t.at >= w.start && t.at <= w.end, `${new Date(t.at).toISOString()} in window`);
        assert.equal(decide(base({ cert: c, ari: w, random, now: t.at - 1000 })).action, "wait");
        assert.equal(decide(base({ cert: c, ari: w, random, now: t.at })).action, "renew");
      }
    });
  }

  it("a window later than a sixth of the lifetime left is capped there", () => {
    const c = cert(6);
    const late = { start: T0 + 5.5 * DAY, end: T0 + 5.9 * DAY };
    const t = renewalTime(c, late, undefined, 0.5);
    assert.equal(t.at, T0 + 5 * DAY);
    assert.match(t.reason, /capped at a sixth/);
  });

  it("keeps the time chosen in a window, and draws again when the CA moves the window", () => {
    const c = cert(90);
    const w = leWindow(90);
    const first = renewalTime(c, w, undefined, 0.1);
    assert.equal(renewalTime(c, w, first.chosen, 0.9).at, first.at);
    const moved = { start: T0 + 10 * DAY, end: T0 + 11 * DAY };
    const again = renewalTime(c, moved, first.chosen, 0.5);
    assert.equal(again.at, T0 + 10.5 * DAY);
  });

  it("a window in the past (e.g. the CA revoked the certificate) means renew now", () => {
    const d = decide(base({ cert: cert(90), ari: { start: T0 - 2 * DAY, end: T0 - DAY }, now: T0 + DAY }));
    assert.equal(d.action, "renew");
  });

  it("renews at once with no certificate, a revoked one, other names, or --force", () => {
    assert.match(decide(base({})).reason, /no certificate yet/);
    assert.equal(decide(base({ cert: cert(90), revoked: true })).action, "renew");
    assert.equal(decide(base({ cert: cert(90), namesMatch: false })).action, "renew");
    assert.equal(decide(base({ cert: cert(90), force: true })).action, "renew");
  });

  it("renews at once a chain this machine does not trust, unless backing off", () => {
    assert.match(decide(base({ cert: cert(90), untrusted: true })).reason, /does not lead to a root this machine trusts/);
    assert.equal(decide(base({ cert: cert(90), untrusted: true, failures: 1, nextAttemptAt: T0 + 60_000 })).action, "wait");
  });

  it("backs off after failures even when renewal is due, and only --force overrides", () => {
    const d = decide(base({ failures: 2, nextAttemptAt: T0 + 600_000 }));
    assert.deepEqual([d.action, d.action === "wait" && d.until], ["wait", T0 + 600_000]);
    assert.equal(decide(base({ failures: 2, nextAttemptAt: T0 + 600_000, force: true })).action, "renew");
    assert.equal(decide(base({ failures: 2, nextAttemptAt: T0 })).action, "renew");
  });

  it("any lifetime and window: renewal falls after issuance, before a sixth of the lifetime is left, and not at once (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3600, max: 400 * 86400 }),
        fc.option(fc.tuple(fc.double({ min: 0.05, max: 1.5, noNaN: true }), fc.double({ min: 0, max: 0.5, noNaN: true })), {
          nil: undefined,
        }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (lifetimeSeconds, win, random) => {
          const c = { notBefore: T0, notAfter: T0 + lifetimeSeconds * 1000 };
          const L = lifetimeSeconds * 1000;
          const ari = win && { start: T0 + win[0] * L, end: T0 + (win[0] + win[1]) * L + 1 };
          const t = renewalTime(c, ari, undefined, random);
          assert.ok(t.at <= c.notAfter - L / 6 + 1e-6, "a sixth of the lifetime left at the latest");
          assert.ok(t.at > c.notBefore, "after issuance");
          assert.equal(decide(base({ cert: c, ari, random, now: T0 })).action, "wait", "fresh certificate: wait");
        },
      ),
    );
  });
});

describe("failed orders stay inside Let's Encrypt's limits (agent-level simulation)", () => {
  it("with the default backoff, however often the timer fires, no hour sees more than 4 attempts (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 50, maxLength: 400 }), (ticks) => {
        let state = emptyState();
        let now = T0;
        const attempts: number[] = [];
        for (const gap of ticks) {
          now += gap * 1000;
          const d = decide(
            base({ now, failures: state.failures, nextAttemptAt: state.nextAttemptAt ? Date.parse(state.nextAttemptAt) : undefined }),
          );
          if (d.action === "renew") {
            attempts.push(now);
            state = recordFailure(state, now, "validation failed", DEFAULT_BACKOFF);
          }
        }
        for (let i = 0; i < attempts.length; i++) {
          const inHour = attempts.filter((a) => a >= attempts[i] && a < attempts[i] + 3600_000).length;
          assert.ok(inHour <= 4, `${inHour} attempts in the hour from ${new Date(attempts[i]).toISOString()}`);
        }
      }),
    );
  });
});
