/**
 * The one lock of the project: a file that names its holder (pid, host, what it does). Used by the bootstrap
 * and the failover (one lock per stack, so they exclude each other), the lab's changing verbs and the lab
 * image bake.
 *
 * Taken atomically with link(2) (a complete file appears or nothing does). A lock whose holder process has
 * died is free at once: the pid is checked, no timeout to wait out. A holder on another host cannot be
 * checked from here and counts as alive (the message names it).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UserError } from "../../model/errors";

export interface LockHolder {
  pid: number;
  host: string;
  /** What the holder does, for the message of whoever waits: "bootstrap of stack lab". */
  purpose: string;
  /** ISO time it took the lock. */
  since: string;
}

/** The lock is held by a live process. */
export class LockBusyError extends UserError {
  constructor(
    readonly file: string,
    readonly holder: LockHolder,
  ) {
    super(`${holder.purpose} holds the lock ${file} (pid ${holder.pid} on ${holder.host}, since ${holder.since}).`);
    this.name = "LockBusyError";
  }
}

/** Whether a process with this pid runs on this host. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The holder a lock file names; older lock files held only the pid. Undefined when unreadable. Pure. */
export function parseHolder(text: string, host = os.hostname()): LockHolder | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { pid: Number(t), host, purpose: "a process", since: "unknown" };
  try {
    const h = JSON.parse(t) as Partial<LockHolder>;
    if (typeof h.pid === "number" && typeof h.host === "string")
      return { pid: h.pid, host: h.host, purpose: h.purpose ?? "a process", since: h.since ?? "unknown" };
  } catch {
    // fall through: not ours
  }
  return undefined;
}

/** Whether the holder is gone for sure: a process of this host that no longer runs. */
export function holderDead(holder: LockHolder, host = os.hostname(), alive: (pid: number) => boolean = pidAlive): boolean {
  return holder.host === host && !alive(holder.pid);
}

function readHolder(file: string): LockHolder | undefined {
  try {
    return parseHolder(fs.readFileSync(file, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/**
 * Take the lock now or throw LockBusyError naming the holder. Returns the release function (idempotent; it
 * removes the file only while it is still ours).
 */
export function lockFile(file: string, purpose: string): () => void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const me: LockHolder = { pid: process.pid, host: os.hostname(), purpose, since: new Date().toISOString() };
  const mine = JSON.stringify(me);
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, `${mine}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        fs.linkSync(tmp, file);
        let released = false;
        return () => {
          if (released) return;
          released = true;
          const now = readHolder(file);
          if (now && now.pid === me.pid && now.host === me.host && now.since === me.since) fs.rmSync(file, { force: true });
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const holder = readHolder(file);
      if (holder && !holderDead(holder)) throw new LockBusyError(file, holder);
      // Dead holder (or a file that names nobody): move it aside atomically, then check what was moved. A
      // racing taker may have replaced it in between; then that live lock goes back.
      const tombstone = `${file}.${process.pid}.stale`;
      try {
        fs.renameSync(file, tombstone);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw e;
      }
      const moved = readHolder(tombstone);
      if (moved && !holderDead(moved)) {
        try {
          fs.linkSync(tombstone, file);
        } catch {
          // someone else holds it now; the next attempt sees them
        }
      }
      fs.rmSync(tombstone, { force: true });
    }
    const holder = readHolder(file);
    if (holder) throw new LockBusyError(file, holder);
    throw new Error(`could not take the lock ${file} after 5 attempts`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export interface WaitOptions {
  /** Give up after this long (then LockBusyError). Defaults to 0: do not wait. */
  timeoutMs?: number;
  /** Told once when the lock is busy and waiting begins. */
  onWait?: (holder: LockHolder) => void;
  /** Poll interval. Defaults to 500 ms. */
  intervalMs?: number;
}

/** Take the lock, waiting up to `timeoutMs` for its holder to finish. */
export async function acquireLock(file: string, purpose: string, o: WaitOptions = {}): Promise<() => void> {
  const until = Date.now() + (o.timeoutMs ?? 0);
  let told = false;
  for (;;) {
    try {
      return lockFile(file, purpose);
    } catch (e) {
      if (!(e instanceof LockBusyError) || Date.now() >= until) throw e;
      if (!told) o.onWait?.(e.holder);
      told = true;
      await new Promise((r) => setTimeout(r, o.intervalMs ?? 500));
    }
  }
}

/** Hold the lock around `fn`; it is released however `fn` ends (and with the process: the pid check frees it). */
export async function withLock<T>(file: string, purpose: string, fn: () => Promise<T>, o: WaitOptions = {}): Promise<T> {
  const release = await acquireLock(file, purpose, o);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** The lock of a stack's changing verbs (bootstrap, failover): `<stack state dir>/stack.lock`. */
export function stackLockPath(stateDir: string): string {
  return path.join(stateDir, "stack.lock");
}

/**
 * The stack lock around a changing verb; busy is a UserError saying who holds it and what to do.
 * `verb` names the caller ("bootstrap", "failover").
 */
export async function withStackLock<T>(file: string, stack: string, verb: string, fn: () => Promise<T>): Promise<T> {
  let release: () => void;
  try {
    release = lockFile(file, `${verb} of stack ${stack}`);
  } catch (e) {
    if (e instanceof LockBusyError)
      throw new UserError(
        `${e.message} A bootstrap and a failover of the same stack exclude each other: wait for it to finish, then run again (the lock frees itself when that process ends).`,
      );
    throw e;
  }
  try {
    return await fn();
  } finally {
    release();
  }
}
