/**
 * What every action kind of a node plan (roles/types.ts `Action`) needs from the bootstrap: one handler per
 * kind, with the same four parts. The record of handlers (./index.ts) is checked by the compiler to cover
 * every kind, so a new kind cannot be planned without saying how to describe, check, apply and diff it.
 */
import type { Action } from "../../../roles/types";
import type { RemoteExecutor, RunOptions, RunResult } from "../../ssh/executor";
import type { Argv } from "../../../roles/shell";
import * as cmd from "../commands";

/** The action of one kind. */
export type ActionOf<K extends Action["kind"]> = Extract<Action, { kind: K }>;

export interface ActionHandler<A extends Action> {
  /** Name of the step as progress and reports show it, e.g. `file /etc/hosts`. */
  describe(action: A): string;
  /**
   * Every problem with this action, each naming `at`, the value and the fix. Pure: `earlier` are the
   * actions before it in the same plan (a service may only name files and scripts placed before it).
   */
  validate(action: A, at: string, earlier: readonly Action[]): string[];
  /** Make the machine match the action. Returns the change it made (for the report), or undefined. */
  apply(action: A, run: NodeRun): Promise<string | undefined>;
  /** Compare only (`--diff`): what applying WOULD change, or undefined. Changes nothing on the machine. */
  diff(action: A, run: NodeRun): Promise<string | undefined>;
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
export const TIMEOUTS = { packages: 30 * MINUTE, script: 20 * MINUTE, upload: 10 * MINUTE, short: 2 * MINUTE };

export function combined(r: { stdout: string; stderr: string }): string {
  return [r.stdout.trimEnd(), r.stderr.trimEnd()].filter(Boolean).join("\n");
}

export function lastLines(text: string, n = cmd.TAIL_LINES): string {
  return text.split("\n").slice(-n).join("\n");
}

/**
 * The state of applying one node's plan, shared by its handlers: when each file or script changed and when
 * each unit last (re)started, as action positions in this run (a change already picked up by a later start
 * or restart needs no second restart or reload), and whether systemd still has to re-read unit files.
 */
export class NodeRun {
  /** Position (1-based) of the action being applied. */
  position = 0;
  readonly changedFiles = new Map<string, number>();
  readonly changedScripts = new Map<string, number>();
  readonly restartedAt = new Map<string, number>();
  daemonReloadNeeded = false;

  constructor(
    readonly exec: RemoteExecutor,
    /** One progress line, without the node prefix. */
    readonly log: (line: string) => void = () => {},
  ) {}

  /** Run a command; a non-zero exit is a StepFailure of `step` with the output's tail. */
  async run(step: string, argv: Argv, opts: RunOptions = {}): Promise<RunResult> {
    const r = await this.exec.run(argv, { timeoutMs: TIMEOUTS.short, ...opts });
    if (r.code !== 0) throw new StepFailure(step, lastLines(combined(r)), r.code);
    return r;
  }

  /** `systemctl daemon-reload` when a unit file changed since the last one. */
  async reloadUnitsIfNeeded(step: string): Promise<void> {
    if (!this.daemonReloadNeeded) return;
    await this.run(step, cmd.DAEMON_RELOAD);
    this.daemonReloadNeeded = false;
  }
}
