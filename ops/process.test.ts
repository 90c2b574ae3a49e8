import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ProcessError, run, runSync, showCommand, startDetached } from "./process";

/** The ProcessError a promise rejects with (fails the test if it resolves or throws something else). */
async function failureOf(p: Promise<unknown>): Promise<ProcessError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ProcessError, String(e));
    return e;
  }
  assert.fail("expected a ProcessError");
}

function syncFailureOf(f: () => unknown): ProcessError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ProcessError, String(e));
    return e;
  }
  assert.fail("expected a ProcessError");
}

describe("run: one command to its end", () => {
  it("true succeeds with code 0; false throws, or returns its code with allowFail", async () => {
    assert.deepEqual(await run({ cmd: "true", args: [] }), { code: 0, stdout: "", stderr: "" });
    const e = await failureOf(run({ cmd: "false", args: [] }));
    assert.deepEqual(e.failure, { exit: 1 });
    assert.equal(e.message, "false failed (exit 1)");
    assert.equal((await run({ cmd: "false", args: [] }, { allowFail: true })).code, 1);
  });

  it("feeds input to stdin and captures stdout and stderr apart", async () => {
    assert.equal((await run({ cmd: "cat", args: [] }, { input: "line one\nline two\n" })).stdout, "line one\nline two\n");
    const r = await run({ cmd: "sh", args: ["-c", "echo out; echo err >&2"] });
    assert.deepEqual([r.stdout, r.stderr], ["out\n", "err\n"]);
  });

  it("adds env to this process's environment, or gives only env with envOnly; runs in cwd", async () => {
    const both = await run({ cmd: "sh", args: ["-c", 'echo "$DJANGO_HA_PROBE:${HOME:+home}"'] }, { env: { DJANGO_HA_PROBE: "x y" } });
    assert.equal(both.stdout, "x y:home\n");
    const only = await run(
      { cmd: "/bin/sh", args: ["-c", 'echo "$DJANGO_HA_PROBE:${HOME:-none}"'] },
      { env: { DJANGO_HA_PROBE: "1" }, envOnly: true },
    );
    assert.equal(only.stdout, "1:none\n");
    assert.equal((await run({ cmd: "pwd", args: [] }, { cwd: os.tmpdir() })).stdout.trim(), fs.realpathSync(os.tmpdir()));
  });

  it("kills a command at its timeout and says so", async () => {
    const started = Date.now();
    const e = await failureOf(run({ cmd: "sleep", args: ["30"] }, { timeoutMs: 200 }));
    assert.ok(Date.now() - started < 10_000);
    assert.deepEqual(e.failure, { signal: "SIGKILL", timeoutMs: 200 });
    assert.equal(e.message, "sleep 30 failed (signal SIGKILL, killed after its 200 ms timeout)");
    const r = await run({ cmd: "sleep", args: ["30"] }, { timeoutMs: 100, allowFail: true });
    assert.deepEqual([r.code, r.signal], [137, "SIGKILL"]);
  });

  it("a missing program: a ProcessError that says so, even with allowFail", async () => {
    for (const allowFail of [false, true]) {
      const e = await failureOf(run({ cmd: "django-ha-no-such-program", args: ["--x"] }, { allowFail }));
      assert.ok(e.notFound);
      assert.equal(e.message, "django-ha-no-such-program --x could not start (no program django-ha-no-such-program here)");
    }
    assert.ok(!(await failureOf(run({ cmd: "false", args: [] }))).notFound);
  });

  it("the error shows the command shell-quoted, its exit code and the tail of its stderr", async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `echo line${i + 1} >&2`).join("; ");
    const e = await failureOf(run({ cmd: "sh", args: ["-c", `echo noise; ${lines}; exit 3`, "it's"] }));
    const [first, ...rest] = e.message.split("\n");
    assert.equal(first, `sh -c 'echo noise; ${lines}; exit 3' 'it'\\''s' failed (exit 3):`);
    assert.deepEqual(
      rest,
      Array.from({ length: 15 }, (_, i) => `line${i + 6}`),
    );
    assert.equal(e.stdout, "noise\n");
    // Without stderr, the tail of stdout.
    assert.equal(
      (await failureOf(run({ cmd: "sh", args: ["-c", "echo why; exit 2"] }))).message,
      "sh -c 'echo why; exit 2' failed (exit 2):\nwhy",
    );
  });

  it("showCommand quotes with roles/shell.ts: safe words bare, the rest single-quoted", () => {
    assert.equal(
      showCommand({ cmd: "ip", args: ["addr", "add", "10.231.0.1/24", "dev", "labbr0"] }),
      "ip addr add 10.231.0.1/24 dev labbr0",
    );
    assert.equal(showCommand({ cmd: "sh", args: ["-c", "a b", "", "$HOME"] }), "sh -c 'a b' '' '$HOME'");
  });

  it("passes open file descriptors on as fd 3, 4, …", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "process-fd-")), "out");
    const fd = fs.openSync(file, "w");
    try {
      await run({ cmd: "sh", args: ["-c", "echo via-fd3 >&3"] }, { passFds: [fd] });
    } finally {
      fs.closeSync(fd);
    }
    assert.equal(fs.readFileSync(file, "utf8"), "via-fd3\n");
  });
});

describe("runSync: the synchronous twin", () => {
  it("same results and the same errors", () => {
    assert.equal(runSync({ cmd: "cat", args: [] }, { input: "in\n" }).stdout, "in\n");
    assert.equal(runSync({ cmd: "false", args: [] }, { allowFail: true }).code, 1);
    const e = syncFailureOf(() => runSync({ cmd: "sh", args: ["-c", "echo bad >&2; exit 4"] }));
    assert.equal(e.message, "sh -c 'echo bad >&2; exit 4' failed (exit 4):\nbad");
    assert.ok(syncFailureOf(() => runSync({ cmd: "django-ha-no-such-program", args: [] })).notFound);
    assert.equal(runSync({ cmd: "sh", args: ["-c", 'echo "$DJANGO_HA_PROBE"'] }, { env: { DJANGO_HA_PROBE: "sync" } }).stdout, "sync\n");
  });

  it("kills at its timeout", () => {
    const e = syncFailureOf(() => runSync({ cmd: "sleep", args: ["30"] }, { timeoutMs: 200 }));
    assert.equal(e.message, "sleep 30 failed (signal SIGKILL, killed after its 200 ms timeout)");
  });
});

describe("startDetached: a background command", () => {
  it("runs in its own process group, its output appended to the log, until it ends", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "process-detached-"));
    const log = path.join(dir, "log");
    fs.writeFileSync(log, "before\n");
    const bg = startDetached(
      { cmd: "sh", args: ["-c", 'echo "started $DJANGO_HA_PROBE"; exec sleep 30'] },
      { log, env: { DJANGO_HA_PROBE: "yes" } },
    );
    try {
      const until = Date.now() + 5_000;
      while (!fs.readFileSync(log, "utf8").includes("started") && Date.now() < until) await sleep(20);
      assert.equal(fs.readFileSync(log, "utf8"), "before\nstarted yes\n");
      assert.equal(bg.exited(), false);
      // Its own process group: the group id is its pid.
      assert.equal(fs.readFileSync(`/proc/${bg.pid}/stat`, "utf8").split(") ")[1].split(" ")[2], String(bg.pid));
    } finally {
      process.kill(bg.pid, "SIGKILL");
    }
    const until = Date.now() + 5_000;
    while (!bg.exited() && Date.now() < until) await sleep(20);
    assert.equal(bg.exited(), true);
  });

  it("a missing program throws at once", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "process-detached-"));
    const e = syncFailureOf(() => startDetached({ cmd: "django-ha-no-such-program", args: [] }, { log: path.join(dir, "log") }));
    assert.match(e.message, /^django-ha-no-such-program could not start/);
  });
});
