/**
 * The ONE local process runner: every program this repository starts on the machine it runs on (the operator's
 * terminal, the lab host, a node's agent) starts here, and nowhere else imports node:child_process (an eslint rule
 * keeps it so). It lives in ops/ because ops/ is the lowest layer that runs things: lab/, scripts/ and the agents
 * bundled for the nodes (ops/acme, ops/health) all see it; roles/ and model/ stay pure.
 *
 * A command is data, {cmd, args}: we never build a shell string. Where a caller does run a shell (a fixed bash
 * program, an operator's fence command) that is visible as `bash -c` in its args. Every failure has one shape:
 * the command shell-quoted (roles/shell.ts, the one quoting module), its exit code or signal, and the tail of its
 * stderr.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from "node:child_process";
import * as fs from "node:fs";
import { constants } from "node:os";
import { shellJoin } from "../roles/shell";

/** A command as data: program and argument array, never a shell string. */
export interface Command {
  cmd: string;
  args: string[];
}

export interface RunResult {
  /** Exit code; 128 + the signal's number when a signal ended it (as a shell reports it). */
  code: number;
  /** The signal that ended it, if one did. */
  signal?: NodeJS.Signals;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Text written to the command's stdin. Defaults to none (stdin closed at once). */
  input?: string;
  /** Environment variables added to this process's environment (or replacing it, see envOnly). */
  env?: Record<string, string | undefined>;
  /** Give the command only `env`, not this process's environment (a build that must not see a venv's PATH). */
  envOnly?: boolean;
  /** Working directory. Defaults to this process's. */
  cwd?: string;
  /** Don't throw on a non-zero exit or a signal; return the code instead. A program that cannot start still throws. */
  allowFail?: boolean;
  /** Kill the command (SIGKILL) after this many milliseconds. Defaults to none. */
  timeoutMs?: number;
  /** Also copy its output to this process's stderr as it comes (long steps such as the bake). */
  stream?: boolean;
  /** Hand it this terminal (an interactive ssh): nothing is captured, `input` is ignored. */
  inherit?: boolean;
  /** Open file descriptors passed on as the command's fd 3, 4, … (flock(1) locking our own open file). */
  passFds?: number[];
}

/** Shell-style rendering of a command, for messages and --dry-run only (never executed). */
export function showCommand(c: Command): string {
  return shellJoin([c.cmd, ...c.args]);
}

/** How a command ended badly: exactly one of these is set. */
export type Failure = { exit: number } | { signal: NodeJS.Signals; timeoutMs?: number } | { startError: NodeJS.ErrnoException };

/** A command that failed: the command, how it ended and what it printed. */
export class ProcessError extends Error {
  readonly command: Command;
  readonly failure: Failure;
  readonly stdout: string;
  readonly stderr: string;

  constructor(command: Command, failure: Failure, output: { stdout: string; stderr: string }) {
    super(`${showCommand(command)} ${describeFailure(command, failure)}${tail(output)}`);
    this.name = "ProcessError";
    this.command = command;
    this.failure = failure;
    this.stdout = output.stdout;
    this.stderr = output.stderr;
  }

  /** The program is not installed (or not in PATH). */
  get notFound(): boolean {
    return "startError" in this.failure && this.failure.startError.code === "ENOENT";
  }
}

function describeFailure(c: Command, f: Failure): string {
  if ("exit" in f) return `failed (exit ${f.exit})`;
  if ("signal" in f) return `failed (signal ${f.signal}${f.timeoutMs === undefined ? "" : `, killed after its ${f.timeoutMs} ms timeout`})`;
  if (f.startError.code === "ENOENT") return `could not start (no program ${c.cmd} here)`;
  return `could not start (${f.startError.message})`;
}

/** The last lines of what it said (stderr, else stdout): where the reason usually is. */
function tail(o: { stdout: string; stderr: string }): string {
  const text = (o.stderr.trim() || o.stdout.trim()).split("\n").slice(-15).join("\n");
  return text ? `:\n${text}` : "";
}

function codeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return signal ? 128 + (constants.signals[signal] ?? 0) : 1;
}

/** The failure of an ended command, or undefined when it succeeded. */
function failureOf(code: number | null, signal: NodeJS.Signals | null, timedOut: boolean, timeoutMs?: number): Failure | undefined {
  if (signal) return timedOut ? { signal, timeoutMs } : { signal };
  if (code !== 0) return { exit: code ?? 1 };
  return undefined;
}

function envOf(o: RunOptions): NodeJS.ProcessEnv {
  return o.envOnly ? { ...o.env } : { ...process.env, ...o.env };
}

function stdioOf(o: RunOptions): StdioOptions {
  const extra = o.passFds ?? [];
  return o.inherit ? ["inherit", "inherit", "inherit", ...extra] : ["pipe", "pipe", "pipe", ...extra];
}

/** Collect (and optionally stream) a child's output. */
function capture(child: ChildProcess, stream: boolean | undefined): { stdout: string; stderr: string } {
  const out = { stdout: "", stderr: "" };
  child.stdout?.on("data", (d: Buffer) => {
    out.stdout += d.toString();
    if (stream) process.stderr.write(d);
  });
  child.stderr?.on("data", (d: Buffer) => {
    out.stderr += d.toString();
    if (stream) process.stderr.write(d);
  });
  return out;
}

/** Run one command to its end. Throws a ProcessError unless it exits 0 (or allowFail, see there). */
export function run(c: Command, o: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(c.cmd, c.args, { env: envOf(o), cwd: o.cwd, stdio: stdioOf(o) });
    const out = capture(child, o.stream);
    let timedOut = false;
    const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), child.kill("SIGKILL")), o.timeoutMs);
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ProcessError(c, { startError: e }, out));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const failure = failureOf(code, signal, timedOut, o.timeoutMs);
      if (failure && !o.allowFail) return reject(new ProcessError(c, failure, out));
      resolve({ code: codeOf(code, signal), ...(signal ? { signal } : {}), ...out });
    });
    child.stdin?.on("error", () => undefined); // a command that exits without reading its input
    child.stdin?.end(o.input ?? "");
  });
}

/**
 * The synchronous twin of `run`, for the few callers that must stay synchronous because their own callers are:
 * the release source's git export and tarball (ops/release/pack.ts: `bootstrapAppDir` runs in the Bootstrap
 * component's constructor, which cannot await) and the ACME agent's app-user lookup (its context is loaded synchronously). Same options
 * except `stream` (output is only seen at the end), same errors.
 */
export function runSync(c: Command, o: Omit<RunOptions, "stream"> = {}): RunResult {
  const r = spawnSync(c.cmd, c.args, {
    env: envOf(o),
    cwd: o.cwd,
    stdio: stdioOf(o),
    input: o.inherit ? undefined : (o.input ?? ""),
    encoding: "utf8",
    timeout: o.timeoutMs,
    killSignal: "SIGKILL",
    maxBuffer: 256 * 1024 * 1024,
  });
  const out = { stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  const error = r.error as NodeJS.ErrnoException | undefined;
  const timedOut = error?.code === "ETIMEDOUT";
  if (error && !timedOut) throw new ProcessError(c, { startError: error }, out);
  const failure = failureOf(r.status, r.signal, timedOut, o.timeoutMs);
  if (failure && !o.allowFail) throw new ProcessError(c, failure, out);
  return { code: codeOf(r.status, r.signal), ...(r.signal ? { signal: r.signal } : {}), ...out };
}

/** A command started in the background by startDetached. */
export interface Detached {
  pid: number;
  /** Whether it has ended already (seen while this process still runs). */
  exited(): boolean;
}

/**
 * Start a command in the background, in its own process group, outliving this process (a lab node's nspawn, the
 * lab's Python index server): no stdin, stdout and stderr appended to `log`.
 */
export function startDetached(c: Command, o: { log: string; cwd?: string; env?: Record<string, string | undefined> }): Detached {
  const log = fs.openSync(o.log, "a");
  let child: ChildProcess;
  try {
    child = spawn(c.cmd, c.args, { detached: true, cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ["ignore", log, log] });
  } finally {
    fs.closeSync(log);
  }
  // Node reports why a spawn failed only on the next tick; without a pid it did fail, and the throw below says so.
  child.on("error", () => undefined);
  child.unref();
  const pid = child.pid;
  if (pid === undefined)
    throw new ProcessError(c, { startError: new Error(`spawn ${c.cmd} gave no process; is it installed?`) }, { stdout: "", stderr: "" });
  return { pid, exited: () => child.exitCode !== null || child.signalCode !== null };
}
