/**
 * What the agent asks of the machine it runs on: is this the primary, an exclusive lock, the app user's ids.
 * Commands are built as argument arrays (tested by equality) and run without a shell.
 */
import * as fs from "node:fs";
import { run, runSync, type RunResult } from "../process";
import type { Owner } from "./files";

export const LOCK_PATH = "/run/django-ha-acme.lock";

/** PostgreSQL says whether it is in recovery: `f` is the primary. */
export const PRIMARY_CHECK = ["runuser", "-u", "postgres", "--", "psql", "-XAtc", "select pg_is_in_recovery()"];

/** Read the answer of PRIMARY_CHECK (pure): only a clean `f` is the primary. */
export function readPrimaryAnswer(code: number | null, stdout: string, stderr: string): { primary: boolean; reason: string } {
  if (code !== 0) return { primary: false, reason: `PostgreSQL did not answer (${stderr.trim().split("\n")[0] || `exit ${code}`})` };
  const answer = stdout.trim();
  if (answer === "f") return { primary: true, reason: "PostgreSQL is not in recovery" };
  if (answer === "t") return { primary: false, reason: "PostgreSQL is in recovery (a standby)" };
  return { primary: false, reason: `unexpected answer ${JSON.stringify(answer)} from PostgreSQL` };
}

export async function checkPrimary(command: readonly string[] = PRIMARY_CHECK): Promise<{ primary: boolean; reason: string }> {
  try {
    const r = await run({ cmd: command[0], args: command.slice(1) }, { allowFail: true, timeoutMs: 15_000 });
    return readPrimaryAnswer(r.code, r.stdout, r.signal && !r.stderr ? `killed by ${r.signal} after 15 s` : r.stderr);
  } catch (e) {
    // The program could not start (no psql, no runuser): that is no answer either.
    return readPrimaryAnswer(127, "", (e as Error).message);
  }
}

/**
 * An exclusive flock(2) on `file`, held until the process exits (or release()). flock(1) takes it on our
 * open file description, which outlives that child: the same lock `flock /run/django-ha-acme.lock ...`
 * sees from a shell. Undefined when someone else holds it (still, after waiting up to `waitSeconds`).
 */
export async function tryLock(file: string = LOCK_PATH, waitSeconds = 0): Promise<{ release(): void } | undefined> {
  const fd = fs.openSync(file, "a", 0o600);
  const wait = waitSeconds > 0 ? ["--timeout", String(waitSeconds)] : ["--nonblock"];
  let r: RunResult;
  try {
    r = await run({ cmd: "flock", args: [...wait, "--exclusive", "3"] }, { passFds: [fd], allowFail: true });
  } catch (e) {
    fs.closeSync(fd);
    throw new Error(`flock on ${file}: ${(e as Error).message} (flock comes with util-linux)`);
  }
  if (r.code === 0) return { release: () => fs.closeSync(fd) };
  fs.closeSync(fd);
  if (r.code === 1) return undefined;
  throw new Error(`flock on ${file} failed (exit ${r.code}): ${r.stderr.trim()}`);
}

/** "950:950" or a user name → numeric owner; the share's files belong to the app user (NFS squashes root to it). */
export function resolveOwner(appUser: string): Owner {
  const m = /^(\d+):(\d+)$/.exec(appUser);
  if (m) return { uid: Number(m[1]), gid: Number(m[2]) };
  // Synchronous: the agent's context (ops/acme/context.ts loadContext) is loaded synchronously.
  const id = (flag: string) => Number(runSync({ cmd: "id", args: [flag, appUser] }).stdout.trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    throw new Error(`appUser "${appUser}" is not a user on this machine: the bootstrap creates it; re-run the bootstrap`);
  }
}
