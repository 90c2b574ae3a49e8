import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Action } from "../../../roles/types";
import type { RunResult } from "../../ssh/executor";
import { FakeExecutor, fakeMachine } from "../../../test/ssh-fake-executor";
import { NodeRun, StepFailure } from "./handler";
import { serviceHandler as h } from "./service";

type ServiceAction = Extract<Action, { kind: "service" }>;
const action = (extra: Partial<ServiceAction> = {}): ServiceAction => ({
  kind: "service",
  name: "nginx",
  state: "started",
  enabled: true,
  restartWhen: [],
  ...extra,
});
const file: Action = { kind: "file", file: { path: "/etc/nginx.conf", content: "", mode: "0644", owner: "root", group: "root" } };
const systemctl = (m: ReturnType<typeof fakeMachine>) =>
  m.log.filter((a) => a[0] === "systemctl").map((a) => `${a[1]} ${a[3] ?? ""}`.trim());

describe("service handler", () => {
  it("describes itself by unit", () => {
    assert.equal(h.describe(action()), "service nginx");
  });

  it("validate: a unit name, and only files and scripts placed before it", () => {
    const earlier: Action[] = [file, { kind: "script", name: "setup", script: "true" }];
    assert.deepEqual(h.validate(action({ restartWhen: ["/etc/nginx.conf"], restartAfterScripts: ["setup"] }), "at", earlier), []);
    assert.deepEqual(
      h.validate(action({ name: "bad unit", restartWhen: ["/etc/later.conf"], restartAfterScripts: ["later"] }), "at", earlier),
      [
        'at: unit name "bad unit" is not a systemd unit name',
        'at bad unit: restartWhen names "/etc/later.conf", which no earlier file action of this node writes; list the path of a file action placed before the service',
        'at bad unit: restartAfterScripts names "later", which no earlier script action of this node has; use the name of a script placed before the service',
      ],
    );
  });

  it("apply enables and starts a stopped unit, then does nothing", async () => {
    const m = fakeMachine();
    const run = new NodeRun(new FakeExecutor("n", m));
    run.position = 5;
    assert.equal(await h.apply(action(), run), "service nginx: enable, start");
    assert.equal(run.restartedAt.get("nginx"), 5);
    assert.equal(await h.apply(action(), run), undefined);
    assert.deepEqual(systemctl(m), ["enable nginx", "start nginx"]);
  });

  it("apply restarts (or reloads) only for a change made after the unit's last start", async () => {
    const m = fakeMachine();
    m.services.set("nginx", { enabled: "enabled", active: "active" });
    const run = new NodeRun(new FakeExecutor("n", m));
    run.changedFiles.set("/etc/nginx.conf", 1);
    run.position = 2;
    assert.equal(await h.apply(action({ restartWhen: ["/etc/nginx.conf"], reload: true }), run), "service nginx: reload");
    run.restartedAt.set("nginx", 3);
    run.changedScripts.set("setup", 2);
    assert.equal(await h.apply(action({ restartAfterScripts: ["setup"] }), run), undefined, "the start at 3 picked up the script at 2");
  });

  it("apply re-reads unit files before it asks systemd anything", async () => {
    const m = fakeMachine();
    const run = new NodeRun(new FakeExecutor("n", m));
    run.daemonReloadNeeded = true;
    await h.apply(action(), run);
    assert.deepEqual(systemctl(m), ["daemon-reload", "enable nginx", "start nginx"]);
  });

  it("a failing systemctl is a StepFailure with the unit's journal", async () => {
    const m = fakeMachine();
    const exec = new FakeExecutor("n", m);
    const real = exec.run.bind(exec);
    const answer = (code: number, stdout: string): RunResult => ({ code, stdout, stderr: "", truncated: false });
    exec.run = async (argv, o) =>
      argv[0] === "systemctl" && argv[1] === "start"
        ? answer(1, "Job failed")
        : argv[0] === "journalctl"
          ? answer(0, "nginx: bad config line 3")
          : real(argv, o);
    await assert.rejects(h.apply(action(), new NodeRun(exec)), (e: unknown) => {
      assert.ok(e instanceof StepFailure);
      assert.deepEqual([e.step, e.code, e.output], ["service nginx: start", 1, "Job failed\nnginx: bad config line 3"]);
      return true;
    });
  });

  it("diff says what it would do, does it not, and never re-reads units", async () => {
    const m = fakeMachine();
    const run = new NodeRun(new FakeExecutor("n", m));
    run.daemonReloadNeeded = true;
    assert.equal(await h.diff(action(), run), "service nginx: would enable, start");
    assert.deepEqual(systemctl(m), []);
    m.services.set("nginx", { enabled: "enabled", active: "active" });
    assert.equal(await h.diff(action(), run), undefined);
  });
});
