import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RenderedFile } from "../../../roles/types";
import { FakeExecutor, fakeMachine } from "../../../test/ssh-fake-executor";
import { fileHandler as h, filePathsOf } from "./file";
import { NodeRun } from "./handler";

const action = (file: Partial<RenderedFile> = {}) => ({
  kind: "file" as const,
  file: { path: "/etc/app.conf", content: "v1", mode: "0644", owner: "root", group: "root", ...file },
});

describe("file handler", () => {
  it("describes itself by path", () => {
    assert.equal(h.describe(action()), "file /etc/app.conf");
  });

  it("validate: path, mode, owner and group, each with the value", () => {
    assert.deepEqual(h.validate(action(), "at", []), []);
    assert.deepEqual(h.validate(action({ path: "etc/x/", mode: "644x", owner: "Root", group: "a b" }), "at", []), [
      'at: path "etc/x/" must be an absolute file path',
      'at: etc/x/ mode "644x" must be an octal string such as "0644"',
      'at: etc/x/ owner "Root" must be a Unix user name',
      'at: etc/x/ group "a b" must be a Unix group name',
    ]);
  });

  it("apply writes when the content differs, records when, and asks for a unit reload only for unit files", async () => {
    const m = fakeMachine();
    const run = new NodeRun(new FakeExecutor("n", m));
    run.position = 3;
    assert.equal(await h.apply(action(), run), "file /etc/app.conf");
    assert.equal(m.files.get("/etc/app.conf")?.content, "v1");
    assert.equal(run.changedFiles.get("/etc/app.conf"), 3);
    assert.equal(run.daemonReloadNeeded, false);
    assert.equal(await h.apply(action(), run), undefined, "same content: no change");
    await h.apply(action({ path: "/etc/systemd/system/app.service" }), run);
    assert.equal(run.daemonReloadNeeded, true);
  });

  it("diff names what differs and writes nothing; a later service still sees the change", async () => {
    const m = fakeMachine();
    m.files.set("/etc/app.conf", { content: "v0", mode: "644", owner: "root", group: "root" });
    const run = new NodeRun(new FakeExecutor("n", m));
    run.position = 2;
    assert.equal(await h.diff(action(), run), "file /etc/app.conf (content)");
    assert.equal(m.files.get("/etc/app.conf")?.content, "v0");
    assert.equal(run.changedFiles.get("/etc/app.conf"), 2);
    assert.equal(await h.diff(action({ content: "v0" }), new NodeRun(new FakeExecutor("n", m))), undefined);
  });

  it("filePathsOf lists the paths file actions write, nothing else", () => {
    assert.deepEqual([...filePathsOf([action(), { kind: "script", name: "x", script: "true" }])], ["/etc/app.conf"]);
  });
});
