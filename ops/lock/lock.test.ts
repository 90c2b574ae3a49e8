import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { UserError } from "../../model/errors";
import { acquireLock, holderDead, LockBusyError, lockFile, parseHolder, stackLockPath, withStackLock } from ".";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lock-"));
let n = 0;
const fresh = () => path.join(dir, `l${++n}`, "stack.lock");

/** A pid that ran and is gone: a child that already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(r.stdout.toString());
}

describe("lockFile", () => {
  it("a second taker gets LockBusyError naming the holder; after release the lock is free", () => {
    const file = fresh();
    const release = lockFile(file, "bootstrap of stack lab");
    assert.throws(
      () => lockFile(file, "failover of stack lab"),
      (e: unknown) =>
        e instanceof LockBusyError &&
        e.holder.pid === process.pid &&
        /^bootstrap of stack lab holds the lock .*stack\.lock \(pid \d+ on /.test(e.message),
    );
    release();
    release(); // idempotent
    assert.equal(fs.existsSync(file), false);
    lockFile(file, "again")();
  });

  it("a lock whose holder died is free at once (no stale timeout)", () => {
    const file = fresh();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      JSON.stringify({ pid: deadPid(), host: os.hostname(), purpose: "failover of stack lab", since: "2026-01-01T00:00:00Z" }),
    );
    const started = Date.now();
    const release = lockFile(file, "bootstrap of stack lab");
    assert.ok(Date.now() - started < 1000);
    assert.equal(parseHolder(fs.readFileSync(file, "utf8"))?.pid, process.pid);
    release();
  });

  it("an old pid-only lock file of a dead process is taken over; of a live one refused", () => {
    const file = fresh();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${deadPid()}\n`);
    lockFile(file, "x")();
    fs.writeFileSync(file, `${process.ppid}\n`);
    assert.throws(() => lockFile(file, "x"), LockBusyError);
  });

  it("a holder on another host counts as alive (its pid cannot be checked from here)", () => {
    const holder = { pid: 1, host: "elsewhere", purpose: "p", since: "s" };
    assert.equal(
      holderDead(holder, "here", () => false),
      false,
    );
    assert.equal(
      holderDead({ ...holder, host: "here" }, "here", () => false),
      true,
    );
    assert.equal(
      holderDead({ ...holder, host: "here" }, "here", () => true),
      false,
    );
  });

  it("parseHolder reads both formats and rejects garbage", () => {
    assert.deepEqual(parseHolder("42\n", "h"), { pid: 42, host: "h", purpose: "a process", since: "unknown" });
    assert.equal(parseHolder('{"pid":7,"host":"a","purpose":"b","since":"c"}')?.purpose, "b");
    assert.equal(parseHolder("not a lock"), undefined);
  });
});

describe("acquireLock", () => {
  it("waits for the holder when asked to, and gives up after the timeout", async () => {
    const file = fresh();
    const release = lockFile(file, "bake");
    const waited: number[] = [];
    const later = acquireLock(file, "second", { timeoutMs: 5000, intervalMs: 20, onWait: (h) => waited.push(h.pid) });
    setTimeout(release, 100);
    (await later)();
    assert.deepEqual(waited, [process.pid]);
    const held = lockFile(file, "bake");
    await assert.rejects(acquireLock(file, "third", { timeoutMs: 50, intervalMs: 10 }), LockBusyError);
    held();
  });
});

describe("withStackLock", () => {
  it("a bootstrap and a failover of one stack exclude each other, with a message saying so", async () => {
    const file = stackLockPath(path.join(dir, "stack-x"));
    let inner: unknown;
    await withStackLock(file, "x", "bootstrap", async () => {
      inner = await withStackLock(file, "x", "failover", async () => "ran").catch((e: unknown) => e);
    });
    assert.ok(inner instanceof UserError);
    assert.match(
      (inner as Error).message,
      /^bootstrap of stack x holds the lock .* A bootstrap and a failover of the same stack exclude each other/,
    );
    assert.equal(await withStackLock(file, "x", "failover", async () => "free again"), "free again");
  });

  it("is released when the body throws", async () => {
    const file = fresh();
    await assert.rejects(
      withStackLock(file, "x", "failover", async () => Promise.reject(new Error("boom"))),
      /boom/,
    );
    assert.equal(fs.existsSync(file), false);
  });
});
