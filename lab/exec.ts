import { spawn } from "node:child_process";

/** A command as data: program and argument array, never a shell string. */
export interface Command {
  cmd: string;
  args: string[];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Text written to the command's stdin. */
  input?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Don't throw on a non-zero exit; return the code instead. */
  allowFail?: boolean;
  /** Kill the command after this many milliseconds. Defaults to none. */
  timeoutMs?: number;
  /** Stream output to this process's stderr (long steps such as the bake). */
  stream?: boolean;
}

/** Shell-style rendering of a command, for messages and --dry-run only (never executed). */
export function showCommand(c: Command): string {
  return [c.cmd, ...c.args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** Run one command; throws with its stderr unless allowFail. */
export function run(c: Command, opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(c.cmd, c.args, {
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (opts.stream) process.stderr.write(d);
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (opts.stream) process.stderr.write(d);
    });
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`${showCommand(c)}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      const rc = code ?? (signal ? 128 : 1);
      if (rc !== 0 && !opts.allowFail) {
        const tail = (stderr || stdout).trim().split("\n").slice(-15).join("\n");
        reject(new Error(`${showCommand(c)} failed (exit ${rc}${signal ? `, ${signal}` : ""}):\n${tail}`));
        return;
      }
      resolve({ code: rc, stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
