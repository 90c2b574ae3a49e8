/**
 * How the failover's programs are built and what they print. Every program in this folder is a fixed bash
 * text that takes its data as positional arguments ("$1", …), built as an argv array (quoted in one place,
 * ops/ssh); nothing here runs anything, and every program is idempotent: a re-run after an interruption finds
 * the work done. The programs report with `changed=<what>` and `key=value` lines, read by changesOf and valueOf.
 */
import type { Argv } from "../../../roles/shell";

/** A fixed program with its positional arguments. */
export const fixed = (program: string, ...args: string[]): Argv => ["bash", "-c", program, "django-ha-failover", ...args];

/** psql as postgres on the node itself (peer auth), never waiting for a synchronous standby. */
export const PSQL = `q() { PGOPTIONS='-c synchronous_commit=local' runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }`;

/** What a program reported as changed (`changed=<what>` lines). Pure. */
export function changesOf(stdout: string): string[] {
  return stdout
    .split("\n")
    .map((l) => /^changed=(.+)$/.exec(l)?.[1])
    .filter((x): x is string => !!x);
}

/** A `key=value` line of a program's output. Pure. */
export function valueOf(stdout: string, key: string): string | undefined {
  return new RegExp(`^${key}=(.*)$`, "m").exec(stdout)?.[1];
}
