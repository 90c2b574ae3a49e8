/**
 * What deploy, rollback and maintenance run on the nodes: fixed bash programs (one file per concern in this folder) that
 * take their data as positional arguments, built as argv arrays (quoted in one place, ops/ssh), plus parsers for what
 * they print. Nothing here runs anything. Tested by equality, shellcheck, and by running them against a temp tree.
 */
import type { Argv } from "../../../roles/shell";

/** A fixed program with its positional arguments. */
export const fixed = (program: string, ...args: string[]): Argv => ["bash", "-c", program, "django-ha-release", ...args];
