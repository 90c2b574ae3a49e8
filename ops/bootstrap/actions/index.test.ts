import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Action } from "../../../roles/types";
import { FakeExecutor, fakeMachine } from "../../../test/ssh-fake-executor";
import { actionIssues, describeAction, HANDLERS, NodeRun, runAction } from ".";

const examples: { [K in Action["kind"]]: Extract<Action, { kind: K }> } = {
  packages: { kind: "packages", names: ["nginx"] },
  file: { kind: "file", file: { path: "/etc/a", content: "a", mode: "0644", owner: "root", group: "root" } },
  upload: { kind: "upload", name: "app", localDir: "/", remoteDir: "/srv/app", owner: "root", group: "root" },
  script: { kind: "script", name: "s", script: "true" },
  service: { kind: "service", name: "nginx", state: "started", enabled: true, restartWhen: [] },
};

describe("the action handlers", () => {
  it("one handler per kind, and each describes its own kind", () => {
    assert.deepEqual(Object.keys(HANDLERS).sort(), Object.keys(examples).sort());
    assert.deepEqual(
      Object.values(examples).map((a) => describeAction(a)),
      ["packages (1)", "file /etc/a", "upload app → /srv/app", "script s", "service nginx"],
    );
  });

  it("an unknown kind (a plan from JSON) is a validation issue, and never runs", async () => {
    const odd = { kind: "reboot" } as unknown as Action;
    assert.deepEqual(actionIssues(odd, "at", []), ['at: unknown action kind "reboot"']);
    await assert.rejects(runAction(odd, new NodeRun(new FakeExecutor("n", fakeMachine())), false), /unknown action kind "reboot"/);
  });

  it("readOnly runs the diff (no write), otherwise the apply", async () => {
    const m = fakeMachine();
    const run = new NodeRun(new FakeExecutor("n", m));
    assert.equal(await runAction(examples.file, run, true), "file /etc/a (absent)");
    assert.equal(m.files.size, 0);
    assert.equal(await runAction(examples.file, run, false), "file /etc/a");
    assert.equal(m.files.get("/etc/a")?.content, "a");
  });
});
