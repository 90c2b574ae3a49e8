/**
 * What the agent asks of the machine it runs on: is this the primary, an exclusive lock, the app user's ids.
 * Commands are built as argument arrays (tested by equality) and run without a shell.
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
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

export function checkPrimary(command: readonly string[] = PRIMARY_CHECK): Promise<{ primary: boolean; reason: string }> {
  return new Promise((resolve) => {
    execFile(command[0], command.slice(1), { timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 127) : 0;
      resolve(readPrimaryAnswer(code, stdout, error && !stderr ? error.message : stderr));
    });
  });
}

/**
 * An exclusive flock(2) on `file`, held until the process exits (or release()). flock(1) takes it on our
 * open file description, which outlives that child: the same lock `flock /run/django-ha-acme.lock ...`
 * sees from a shell. Undefined when someone else holds it.
 */
export function tryLock(file: string = LOCK_PATH): { release(): void } | undefined {
  const fd = fs.openSync(file, "a", 0o600);
  const r = spawnSync("flock", ["--nonblock", "--exclusive", "3"], { stdio: ["ignore", "ignore", "pipe", fd] });
  if (r.status === 0) return { release: () => fs.closeSync(fd) };
  fs.closeSync(fd);
  if (r.status === 1) return undefined;
  throw new Error(`flock on ${file} failed: ${r.error?.message ?? r.stderr.toString().trim()} (flock comes with util-linux)`);
}

/** "950:950" or a user name → numeric owner; the share's files belong to the app user (NFS squashes root to it). */
export function resolveOwner(appUser: string): Owner {
  const m = /^(\d+):(\d+)$/.exec(appUser);
  if (m) return { uid: Number(m[1]), gid: Number(m[2]) };
  const id = (flag: string) => Number(execFileSync("id", [flag, appUser], { encoding: "utf8" }).trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    throw new Error(`appUser "${appUser}" is not a user on this machine: the bootstrap creates it; re-run the bootstrap`);
  }
}
