/**
 * An operator's command as typed at a terminal: `npm run <script> -- <args>` from the repository root, no TTY,
 * output captured. The drills call the runbook this way, never its functions.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";

export interface OperatorRun {
  code: number;
  /** stdout and stderr, interleaved as they came. */
  out: string;
  ms: number;
}

const REPO = path.resolve(__dirname, "..", "..");

export function operator(script: string, args: string[], timeoutMs = 300_000): Promise<OperatorRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", script, "--", ...args], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : -1),
        out: signal ? `${out}\n(killed by ${signal} after ${timeoutMs / 1000} s)` : out,
        ms: Date.now() - started,
      });
    });
  });
}
