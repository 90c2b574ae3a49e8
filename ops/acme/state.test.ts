import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { backoffSeconds, DEFAULT_BACKOFF } from "./backoff";
import { emptyState, readState, recordFailure, recordSuccess, statePath, withEvent, withoutBackoff, writeState } from "./state";

const NOW = Date.parse("2027-03-01T00:00:00Z");

describe("agent state", () => {
  it("keeps the last 10 events", () => {
    let s = emptyState();
    for (let i = 0; i < 13; i++) s = withEvent(s, NOW + i, "checked", `run ${i}`);
    assert.equal(s.history.length, 10);
    assert.equal(s.history[0].detail, "run 3");
  });

  it("an operator's retry lifts the wait, keeps the count (the next failure waits longer), and is a no-op without a wait", () => {
    const failed = recordFailure(recordFailure(emptyState(), NOW, "404", DEFAULT_BACKOFF), NOW, "404", DEFAULT_BACKOFF);
    const lifted = withoutBackoff(failed, NOW + 1000);
    assert.deepEqual([lifted.failures, lifted.nextAttemptAt, lifted.history.at(-1)?.event], [2, undefined, "retry"]);
    assert.match(lifted.history.at(-1)?.detail ?? "", /the wait until \S+ after 2 failed attempt\(s\) lifted by an operator/);
    const again = recordFailure(lifted, NOW + 2000, "404", DEFAULT_BACKOFF);
    assert.equal(again.nextAttemptAt, new Date(NOW + 2000 + backoffSeconds(3, DEFAULT_BACKOFF) * 1000).toISOString());
    const none = emptyState();
    assert.equal(withoutBackoff(none, NOW), none);
  });

  it("counts failures with backoff and clears them on success", () => {
    let s = recordFailure(emptyState(), NOW, "http-01 on child-2: 404", DEFAULT_BACKOFF);
    s = recordFailure(s, NOW + 300_000, "again", DEFAULT_BACKOFF);
    assert.equal(s.failures, 2);
    assert.equal(s.nextAttemptAt, new Date(NOW + 900_000).toISOString());
    assert.equal(s.lastError, "again");
    s = recordSuccess(s, NOW + 1e6, { serial: "0a", notBefore: NOW, notAfter: NOW + 1e9, names: ["a.b"], certId: "x.y" }, "serial 0a");
    assert.deepEqual(
      [s.failures, s.nextAttemptAt, s.lastError, s.serial, s.history.at(-1)?.event],
      [0, undefined, undefined, "0a", "issued"],
    );
  });

  it("round-trips through the file (0640, atomic) and names a damaged file", () => {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), "acme-state-"));
    fs.mkdirSync(path.join(store, "acme"));
    assert.deepEqual(readState(store), emptyState());
    const s = withEvent(emptyState(), NOW, "checked", "ok");
    writeState(store, s);
    assert.deepEqual(readState(store), s);
    assert.equal(fs.statSync(statePath(store)).mode & 0o777, 0o640);
    assert.deepEqual(fs.readdirSync(path.join(store, "acme")), ["state.json"]);
    fs.writeFileSync(statePath(store), "{");
    assert.throws(() => readState(store), /state.json is not JSON .*move it aside/);
    fs.writeFileSync(statePath(store), '{"version":2}');
    assert.throws(() => readState(store), /not a state this agent wrote/);
    fs.rmSync(store, { recursive: true });
  });
});
