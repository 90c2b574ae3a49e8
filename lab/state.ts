import * as fs from "node:fs";
import * as path from "node:path";
import { lockFile, LockBusyError } from "../ops/lock";
import { UserError } from "../model";
import { LabPaths } from "./config";
import type { NodeState } from "./node";

/** What `up` made: read by status, power and down (down also finds leftovers without it). */
export interface LabState {
  version: 1;
  imageKey: string;
  imageRoot: string;
  zone: string;
  /** The stack `up` booted (status reads its current roles: django-ha:primary may change after `up`). Absent in states written before it was recorded. */
  stack?: string;
  /** The lab's ACME CA as `up` started it (absent in states written before the lab had one). */
  acme?: { directoryUrl: string; validitySeconds: number };
  nodes: Record<string, NodeState>;
}

export function readState(paths: LabPaths): LabState | undefined {
  if (!fs.existsSync(paths.state)) return undefined;
  return JSON.parse(fs.readFileSync(paths.state, "utf8")) as LabState;
}

/** Atomic write (rename), so a crash never leaves half a state file. */
export function writeState(paths: LabPaths, state: LabState): void {
  fs.mkdirSync(path.dirname(paths.state), { recursive: true });
  const tmp = `${paths.state}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n");
  fs.renameSync(tmp, paths.state);
}

/** Update one node in the state file (power operations run in other processes than `up`). */
export function updateNode(paths: LabPaths, name: string, change: (n: NodeState) => void): NodeState {
  const state = readState(paths);
  const node = state?.nodes[name];
  if (!state || !node) throw unknownNode(paths, name);
  change(node);
  writeState(paths, state);
  return node;
}

export function unknownNode(paths: LabPaths, name: string): UserError {
  const state = readState(paths);
  if (!state) return new UserError(`No lab is up (${paths.state} missing): run \`npm run lab -- up\` first.`);
  return new UserError(`No lab node "${name}". Lab nodes: ${Object.keys(state.nodes).join(", ")}.`);
}

/**
 * The lock around the lab's changing verbs (up, down, power): one at a time (ops/lock: a lock whose holder
 * died is free at once). Returns the release function.
 */
export function acquireLock(paths: LabPaths, verb = "a lab command"): () => void {
  try {
    return lockFile(paths.lock, verb);
  } catch (e) {
    if (e instanceof LockBusyError)
      throw new UserError(`${e.message} Wait for it to finish; the lock frees itself when that process ends.`);
    throw e;
  }
}
