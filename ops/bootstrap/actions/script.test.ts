import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Action } from "../../../roles/types";
import { FakeExecutor, fakeMachine } from "../../../test/ssh-fake-executor";
import { NodeRun, StepFailure } from "./handler";
import { scriptHandler as h } from "./script";

const action = (name = "migrate") => ({ kind: "script" as const, name, script: "true" });

describe("script handler", () => {
  it("describes itself by name", () => {
    assert.equal(h.describe(action()), "script migrate");
  });

  it("validate: a name, unique on the node", () => {
    assert.deepEqual(h.validate(action(), "at", [action("other")]), []);
    assert.deepEqual(h.validate(action(" "), "at", []), ["at: a script needs a name (it appears in progress and failure reports)"]);
    const earlier: Action[] = [action()];
    assert.deepEqual(h.validate(action(), "at", earlier), ['at: script name "migrate" is used twice on this node; names must be unique']);
  });

  it("apply reports a change only when the script says so, and records when", async () => {
    const m = fakeMachine();
    const run = new NodeRun(new FakeExecutor("n", m));
    run.position = 4;
    assert.equal(await h.apply(action(), run), "script migrate");
    assert.equal(run.changedScripts.get("migrate"), 4);
    assert.equal(await h.apply(action(), run), undefined, "second run: idempotent");
  });

  it("apply re-reads changed unit files first (scripts may start units)", async () => {
    const m = fakeMachine();
    const run = new NodeRun(new FakeExecutor("n", m));
    run.daemonReloadNeeded = true;
    await h.apply(action(), run);
    assert.deepEqual(m.log[0], ["systemctl", "daemon-reload"]);
    assert.equal(run.daemonReloadNeeded, false);
  });

  it("a failing script is a StepFailure with its exit code and output", async () => {
    const m = fakeMachine();
    m.failScripts.add("migrate");
    await assert.rejects(h.apply(action(), new NodeRun(new FakeExecutor("n", m))), (e: unknown) => {
      assert.ok(e instanceof StepFailure);
      assert.deepEqual([e.step, e.code, e.output], ["script migrate", 1, "boom from migrate"]);
      return true;
    });
  });

  it("diff does not run it (what it would do is unknown) and says so", async () => {
    const m = fakeMachine();
    const lines: string[] = [];
    assert.equal(await h.diff(action(), new NodeRun(new FakeExecutor("n", m), (l) => lines.push(l))), undefined);
    assert.deepEqual(m.log, []);
    assert.deepEqual(lines, ["script migrate: not run (--diff)"]);
  });
});
