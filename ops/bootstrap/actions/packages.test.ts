import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeExecutor, fakeMachine } from "../../../test/ssh-fake-executor";
import { NodeRun } from "./handler";
import { packagesHandler as h } from "./packages";

const action = (names: string[]) => ({ kind: "packages" as const, names });

describe("packages handler", () => {
  it("describes itself by count", () => {
    assert.equal(h.describe(action(["nginx", "uwsgi"])), "packages (2)");
  });

  it("validate: every name that is not a Debian package name, with the fix", () => {
    assert.deepEqual(h.validate(action(["nginx", "libc6:amd64"]), "at", []), []);
    assert.deepEqual(h.validate(action(["Nginx", "ok", "rm -rf"]), "at", []), [
      `at: package name "Nginx" is not a Debian package name; fix the role's package list`,
      `at: package name "rm -rf" is not a Debian package name; fix the role's package list`,
    ]);
  });

  it("apply installs only what is missing, and nothing the second time", async () => {
    const m = fakeMachine();
    m.packages.add("nginx");
    const lines: string[] = [];
    const run = new NodeRun(new FakeExecutor("n", m), (l) => lines.push(l));
    assert.equal(await h.apply(action(["nginx", "uwsgi", "redis-server"]), run), "packages: installed uwsgi redis-server");
    assert.deepEqual([...m.packages].sort(), ["nginx", "redis-server", "uwsgi"]);
    assert.deepEqual(lines, ["packages (3): installing uwsgi redis-server"]);
    assert.equal(await h.apply(action(["nginx", "uwsgi", "redis-server"]), run), undefined);
  });

  it("an empty list asks the machine nothing", async () => {
    const m = fakeMachine();
    assert.equal(await h.apply(action([]), new NodeRun(new FakeExecutor("n", m))), undefined);
    assert.deepEqual(m.log, []);
  });

  it("diff names what would be installed and installs nothing", async () => {
    const m = fakeMachine();
    const run = new NodeRun(new FakeExecutor("n", m));
    assert.equal(await h.diff(action(["nginx"]), run), "packages: would install nginx");
    assert.equal(m.packages.size, 0);
    m.packages.add("nginx");
    assert.equal(await h.diff(action(["nginx"]), run), undefined);
  });
});
