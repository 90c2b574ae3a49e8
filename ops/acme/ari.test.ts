import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ARI_POLL, nextAriPoll, parseRenewalInfo, renewalInfoUrl } from "./ari";

const NOW = Date.parse("2027-03-01T00:00:00Z");

describe("ARI (RFC 9773)", () => {
  it("asks at <renewalInfo>/<certID>", () => {
    assert.equal(renewalInfoUrl("https://ca/renewal-info/", "aYhb.AIdl"), "https://ca/renewal-info/aYhb.AIdl");
  });
  it("reads the suggested window and refuses a malformed one", () => {
    assert.deepEqual(parseRenewalInfo({ suggestedWindow: { start: "2027-04-01T00:00:00Z", end: "2027-04-02T00:00:00Z" } }).window, {
      start: Date.parse("2027-04-01T00:00:00Z"),
      end: Date.parse("2027-04-02T00:00:00Z"),
    });
    assert.throws(
      () => parseRenewalInfo({ suggestedWindow: { start: "2027-04-02T00:00:00Z", end: "2027-04-01T00:00:00Z" } }),
      /ends .* before it starts/,
    );
    assert.throws(() => parseRenewalInfo({ window: {} }), /not \{ suggestedWindow/);
  });
  it("polls again per Retry-After (seconds or date), 6 h without one, within a minute and a day", () => {
    assert.equal(nextAriPoll("3600", NOW), NOW + 3600_000);
    assert.equal(nextAriPoll(new Date(NOW + 7200_000).toUTCString(), NOW), NOW + 7200_000);
    assert.equal(nextAriPoll(undefined, NOW), NOW + 21600_000);
    assert.equal(nextAriPoll("1", NOW), NOW + 60_000);
    assert.equal(nextAriPoll("9999999", NOW), NOW + 86400_000);
    fc.assert(
      fc.property(fc.string(), (h) => {
        const t = nextAriPoll(h, NOW);
        assert.ok(t >= NOW + ARI_POLL.minSeconds * 1000 && t <= NOW + ARI_POLL.maxSeconds * 1000);
      }),
    );
  });
});
