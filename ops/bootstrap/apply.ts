import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Action, Check, CHANGED_MARKER, NodePlan } from "../../roles/types";
import type { RemoteExecutor, RunOptions } from "../ssh/executor";
import type { Argv } from "../ssh/quote";
import * as cmd from "./commands";
import { directoryHash, makeTarball, sha256 } from "./hash";

/** What happened on one node. */
export interface NodeResult {
  node: string;
  role: string;
  status: "changed" | "unchanged" | "failed" | "skipped";
  /** One entry per step that changed the machine, e.g. `file /etc/hosts`, `service nginx: restart`. */
  changes: string[];
  /** The step that failed and why (status "failed"). */
  failure?: { step: string; code?: number; output: string };
  /** Why it did not run (status "skipped"). */
  skippedBecause?: string;
  durationMs: number;
}

export interface ApplyOptions {
  /** One progress line per step, already without the node prefix (the caller labels it). */
  log?: (line: string) => void;
  /** Pause between check attempts. Defaults to 2 s. */
  checkIntervalMs?: number;
  /**
   * Compare only (`--diff`): report what WOULD change, change nothing. Scripts are not run (what they
   * would do is unknown until they run) and checks are skipped. Defaults to false.
   */
  readOnly?: boolean;
}

/** A step that did not succeed: carries the step name, exit code and the output tail. */
export class StepFailure extends Error {
  constructor(
    readonly step: string,
    readonly output: string,
    readonly code?: number,
  ) {
    super(`${step} failed${code === undefined ? "" : ` (exit ${code})`}`);
  }
}

const MINUTE = 60_000;
const TIMEOUTS = { packages: 30 * MINUTE, script: 20 * MINUTE, upload: 10 * MINUTE, short: 2 * MINUTE };

/** Name of a step as progress and reports show it. */
export function stepName(a: Action): string {
  switch (a.kind) {
    case "packages":
      return `packages (${a.names.length})`;
    case "file":
      return `file ${a.file.path}`;
    case "upload":
      return `upload ${a.name} → ${a.remoteDir}`;
    case "script":
      return `script ${a.name}`;
    case "service":
      return `service ${a.name}`;
    default: {
      const never: never = a;
      return String(never);
    }
  }
}

function combined(r: { stdout: string; stderr: string }): string {
  return [r.stdout.trimEnd(), r.stderr.trimEnd()].filter(Boolean).join("\n");
}

function lastLines(text: string, n = cmd.TAIL_LINES): string {
  return text.split("\n").slice(-n).join("\n");
}

/**
 * Apply one node's plan in order over an executor, then run its checks. Never throws for a failing
 * step: the result names the step, exit code and output. Idempotent when the plan's actions are.
 */
export async function applyPlan(exec: RemoteExecutor, plan: NodePlan, options: ApplyOptions = {}): Promise<NodeResult> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const changes: string[] = [];
  // When each file or script changed, and when each unit last (re)started, as action positions in this run:
  // a change already picked up by a later start or restart needs no second restart or reload.
  let position = 0;
  const changedFiles = new Map<string, number>();
  const changedScripts = new Map<string, number>();
  const restartedAt = new Map<string, number>();
  let daemonReloadNeeded = false;

  const run = async (step: string, argv: Argv, opts: RunOptions = {}) => {
    const r = await exec.run(argv, { timeoutMs: TIMEOUTS.short, ...opts });
    if (r.code !== 0) throw new StepFailure(step, lastLines(combined(r)), r.code);
    return r;
  };

  const reloadUnits = async (step: string) => {
    await run(step, cmd.DAEMON_RELOAD);
    daemonReloadNeeded = false;
  };

  const apply = async (a: Action): Promise<string | undefined> => {
    const step = stepName(a);
    switch (a.kind) {
      case "packages": {
        if (a.names.length === 0) return undefined;
        const probe = await run(step, cmd.probePackages(a.names));
        const missing = cmd.missingPackages(a.names, probe.stdout);
        if (missing.length === 0) return undefined;
        if (options.readOnly) return `packages: would install ${missing.join(" ")}`;
        log(`${step}: installing ${missing.join(" ")}`);
        await run(step, cmd.installPackages(missing), { timeoutMs: TIMEOUTS.packages });
        return `packages: installed ${missing.join(" ")}`;
      }
      case "file": {
        if (options.readOnly) {
          const diffs = cmd.fileDifferences((await run(step, cmd.probeFile(a.file.path))).stdout, {
            ...a.file,
            sha256: sha256(a.file.content),
          });
          if (diffs.length === 0) return undefined;
          changedFiles.set(a.file.path, position);
          return `${step} (${diffs.join(", ")})`;
        }
        const r = await run(step, cmd.writeFile(a.file, sha256(a.file.content)), { stdin: a.file.content });
        if (r.stdout.trim() !== "changed") return undefined;
        changedFiles.set(a.file.path, position);
        if (cmd.isUnitFile(a.file.path)) daemonReloadNeeded = true;
        return step;
      }
      case "upload": {
        const hash = directoryHash(a.localDir);
        const probe = await run(step, cmd.probeUpload(a.remoteDir));
        if (probe.stdout.trim() === hash) return undefined;
        if (options.readOnly) return `${step} (content differs)`;
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-upload-"));
        try {
          const tarball = path.join(tmp, "tree.tgz");
          makeTarball(a.localDir, tarball);
          try {
            await exec.putFile(tarball, cmd.uploadTarball(a.remoteDir));
          } catch (err) {
            throw new StepFailure(step, `copying the tarball failed: ${(err as Error).message}`);
          }
          await run(step, cmd.replaceUpload(a, hash), { timeoutMs: TIMEOUTS.upload });
        } finally {
          fs.rmSync(tmp, { recursive: true, force: true });
        }
        return step;
      }
      case "script": {
        if (options.readOnly) {
          log(`${step}: not run (--diff)`);
          return undefined;
        }
        // Scripts may start or stop units (the volume scripts do): systemd must see changed unit files first.
        if (daemonReloadNeeded) await reloadUnits(step);
        const r = await run(step, cmd.runScript(a.name, CHANGED_MARKER), { stdin: a.script, timeoutMs: TIMEOUTS.script });
        const outcome = cmd.parseScriptOutput(r.stdout);
        if (outcome.code !== 0) throw new StepFailure(step, outcome.tail, outcome.code);
        if (!outcome.changed) return undefined;
        changedScripts.set(a.name, position);
        return step;
      }
      case "service": {
        // systemd must see changed unit files before anything is asked of it (is-enabled reads them too).
        if (daemonReloadNeeded && !options.readOnly) await reloadUnits(step);
        const probe = cmd.parseServiceProbe((await run(step, cmd.probeService(a.name))).stdout);
        const since = restartedAt.get(a.name) ?? -1;
        const changedSince = (at: number | undefined) => at !== undefined && at > since;
        const triggered =
          a.restartWhen.some((p) => changedSince(changedFiles.get(p))) ||
          (a.restartAfterScripts ?? []).some((s) => changedSince(changedScripts.get(s)));
        const steps = cmd.serviceCommands(a, probe, triggered);
        if (steps.length === 0) return undefined;
        if (options.readOnly) return `${step}: would ${steps.map((x) => x[1]).join(", ")}`;
        for (const s of steps) {
          const r = await exec.run(s, { timeoutMs: TIMEOUTS.short });
          if (r.code !== 0) {
            // The unit's own words are the useful part of a failed start.
            const journal = await exec
              .run(["journalctl", "-u", a.name, "-n", "20", "--no-pager", "-o", "cat"], { timeoutMs: TIMEOUTS.short })
              .catch(() => undefined);
            throw new StepFailure(
              `${step}: ${s.slice(1, -2).join(" ")}`,
              lastLines([combined(r), journal ? combined(journal) : ""].filter(Boolean).join("\n")),
              r.code,
            );
          }
        }
        if (steps.some((s) => s[1] === "start" || s[1] === "restart")) restartedAt.set(a.name, position);
        return `${step}: ${steps.map((s) => s[1]).join(", ")}`;
      }
      default: {
        const never: never = a;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
  };

  const check = async (c: Check) => {
    const attempts = c.attempts ?? 15;
    const interval = options.checkIntervalMs ?? 2000;
    let last = "";
    for (let i = 1; i <= attempts; i++) {
      const r = await exec.run(cmd.runCheck(c.script), { timeoutMs: TIMEOUTS.short });
      if (r.code === 0) return i;
      last = lastLines(combined(r)) || `exit ${r.code}`;
      if (i < attempts) await new Promise((res) => setTimeout(res, interval));
    }
    throw new StepFailure(`check ${c.name}`, `failed ${attempts} attempt${attempts === 1 ? "" : "s"}; last output:\n${last}`);
  };

  const result = (status: NodeResult["status"], failure?: NodeResult["failure"]): NodeResult => ({
    node: plan.node.name,
    role: plan.role,
    status,
    changes,
    failure,
    durationMs: Date.now() - started,
  });

  let current = "start";
  try {
    for (const a of plan.actions) {
      position++;
      current = stepName(a);
      const t0 = Date.now();
      const change = await apply(a);
      if (change) changes.push(change);
      log(`${change ?? current}: ${change ? (options.readOnly ? "differs" : "changed") : "ok"} (${Date.now() - t0} ms)`);
    }
    // A unit file changed after the last service action: systemd still has to read it.
    if (daemonReloadNeeded && !options.readOnly) await reloadUnits("systemctl daemon-reload");
    for (const c of options.readOnly ? [] : plan.checks) {
      current = `check ${c.name}`;
      const t0 = Date.now();
      const attempt = await check(c);
      log(`check ${c.name}: healthy${attempt > 1 ? ` after ${attempt} attempts` : ""} (${Date.now() - t0} ms)`);
    }
  } catch (err) {
    const failure =
      err instanceof StepFailure
        ? { step: err.step, code: err.code, output: err.output }
        : { step: current, output: (err as Error).message ?? String(err) };
    log(`${failure.step}: FAILED${failure.code === undefined ? "" : ` (exit ${failure.code})`}`);
    return result("failed", failure);
  }
  return result(changes.length ? "changed" : "unchanged");
}
