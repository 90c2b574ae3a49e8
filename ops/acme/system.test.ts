import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { checkPrimary, PRIMARY_CHECK, readPrimaryAnswer, resolveOwner, tryLock } from "./system";

describe("primary check", () => {
  it("asks PostgreSQL as postgres, without a shell", () => {
    assert.deepEqual(PRIMARY_CHECK, ["runuser", "-u", "postgres", "--", "psql", "-XAtc", "select pg_is_in_recovery()"]);
  });
  it("only a clean `f` is the primary; down or in recovery is not", async () => {
    assert.deepEqual(readPrimaryAnswer(0, "f\n", ""), { primary: true, reason: "PostgreSQL is not in recovery" });
    assert.equal(readPrimaryAnswer(0, "t\n", "").primary, false);
    assert.match(
      readPrimaryAnswer(2, "", "psql: error: connection to server on socket failed\nmore").reason,
      /did not answer \(psql: error: connection to server on socket failed\)/,
    );
    assert.equal(readPrimaryAnswer(0, "", "").primary, false);
    assert.equal((await checkPrimary(["sh", "-c", "echo f"])).primary, true);
    assert.equal((await checkPrimary(["/nonexistent/psql"])).primary, false);
  });
});

describe("lock", () => {
  it("is a real flock: a second holder (flock(1) from a shell too) is refused until release", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "acme-lock-")), "acme.lock");
    const held = await tryLock(file);
    assert.ok(held);
    assert.equal(await tryLock(file), undefined);
    assert.equal(spawnSync("flock", ["--nonblock", file, "true"]).status, 1);
    held.release();
    assert.equal(spawnSync("flock", ["--nonblock", file, "true"]).status, 0);
    const again = await tryLock(file);
    assert.ok(again);
    again.release();
  });

  it("waits for the holder when asked to, and gives up after the time given", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "acme-lock-")), "acme.lock");
    spawn("flock", ["--exclusive", file, "sleep", "2"], { stdio: "ignore" });
    for (let i = 0; i < 50 && spawnSync("flock", ["--nonblock", file, "true"]).status === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(await tryLock(file), undefined, "held: not waited for");
    const waited = await tryLock(file, 10);
    assert.ok(waited, "taken once the holder let go");
    assert.equal(await tryLock(file, 1), undefined, "still held by us: given up after a second");
    waited.release();
  });
});

describe("app user", () => {
  it("takes uid:gid as given and looks a name up", () => {
    assert.deepEqual(resolveOwner("950:950"), { uid: 950, gid: 950 });
    assert.deepEqual(resolveOwner("root"), { uid: 0, gid: 0 });
    assert.throws(() => resolveOwner("no-such-user-here"), /appUser "no-such-user-here" is not a user on this machine/);
  });
});
