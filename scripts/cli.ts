/**
 * What every operator script shares: one error printer, one confirmation prompt, one `main` wrapper.
 * A UserError (or ConfigError) is the operator's to fix: its message only. Anything else is a bug: its stack.
 */
import * as nodeModule from "node:module";
import * as readline from "node:readline/promises";
import type { Command } from "commander";
import { ConfigError, UserError } from "../model/errors";

// V8's compile cache for every module a verb loads after this one (Node.js 22.1 or later; older ones lack it): a
// second run reads compiled code instead of compiling it again (docs/benchmarks.md "Start-up").
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

/** The one line (or block) a script prints for a failure. Pure. */
export function formatError(err: unknown): string {
  if (err instanceof UserError || err instanceof ConfigError) return `error: ${err.message}`;
  if (err instanceof Error) return `error: ${err.stack ?? err.message}`;
  return `error: ${String(err)}`;
}

/** Seconds since `started` (Date.now()), as the verbs print their total time: "4.2 s". */
export function elapsed(started: number, now = Date.now()): string {
  return `${((now - started) / 1000).toFixed(1)} s`;
}

export interface ConfirmOptions {
  /** --yes: go ahead without asking. */
  yes?: boolean;
  /** --dry-run: nothing will be changed, so nothing is asked; answers no. */
  dryRun?: boolean;
  /** Where the answer is read. Defaults to process.stdin; tests pass a fake. */
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where the question is written. Defaults to process.stderr (stdout stays the verb's output). */
  output?: NodeJS.WritableStream;
}

/**
 * Ask before something destructive: true only for "y"/"yes" typed on a terminal, or with --yes.
 * Without a terminal and without --yes it refuses with a UserError naming --yes (automation must say so).
 */
export async function confirm(question: string, o: ConfirmOptions = {}): Promise<boolean> {
  if (o.dryRun) return false;
  if (o.yes) return true;
  const input = o.input ?? process.stdin;
  if (!input.isTTY) throw new UserError(`${question}\nNo terminal to ask on: pass --yes to go ahead.`);
  const rl = readline.createInterface({ input, output: o.output ?? process.stderr, terminal: false });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Run a script body: its exit code (void = 0); a thrown error is printed with formatError and gives 1. */
export async function runCli(
  body: () => Promise<number | void>,
  stderr: Pick<NodeJS.WritableStream, "write"> = process.stderr,
): Promise<number> {
  try {
    return (await body()) ?? 0;
  } catch (err) {
    stderr.write(`${formatError(err)}\n`);
    return 1;
  }
}

/** A script's entry point: parse `argv` with the commander program, run the verb, set the exit code. */
export async function main(program: Command, argv: readonly string[] = process.argv): Promise<void> {
  const code = await runCli(async () => {
    await program.parseAsync(argv as string[]);
  });
  if (code !== 0) process.exitCode = code;
}
