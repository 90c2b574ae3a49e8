import type { PowerOperations } from "../ops/power/types";
import { removeCgroups } from "./cgroup";
import { labPaths } from "./config";
import { refreshLabTrust, waitReady } from "./boot";
import { bootNode, mountNode, removePropagateDir, stopNode } from "./node";
import { alive, findLabNspawns } from "./procs";
import { readState, unknownNode, updateNode } from "./state";

/**
 * Fencing in the lab: fence = stop the node's nspawn hard (SIGKILL its init and the nspawn, as a power cut
 * would), then remount its overlay so it can start again; start = boot the same upper dir (state kept).
 */
export class LabPower implements PowerOperations {
  readonly describe = "lab power (systemd-nspawn)";

  constructor(private readonly readyTimeoutMs = 120_000) {}

  private node(name: string) {
    const paths = labPaths();
    const state = readState(paths);
    const node = state?.nodes[name];
    if (!state || !node) throw unknownNode(paths, name);
    return { paths, state, node };
  }

  async isRunning(name: string): Promise<boolean> {
    const { node } = this.node(name);
    if (node.pid && alive(node.pid)) return true;
    return [...findLabNspawns().values()].includes(name);
  }

  async fence(name: string): Promise<void> {
    const { paths, state, node } = this.node(name);
    const pids = [...findLabNspawns()].filter(([, m]) => m === name).map(([p]) => p);
    if (node.pid && !pids.includes(node.pid)) pids.push(node.pid);
    for (const pid of pids) await stopNode(pid, "hard");
    // nspawn's own mounts died with its namespace. Our overlay stays mounted for the next boot: remounting
    // it while the dying namespace still holds the old one would put two overlays on one upper dir.
    await mountNode(node, state.imageRoot);
    removePropagateDir(name);
    removeCgroups(name);
    updateNode(paths, name, (n) => delete n.pid);
  }

  async start(name: string): Promise<void> {
    if (await this.isRunning(name)) return;
    const { paths, state, node } = this.node(name);
    await mountNode(node, state.imageRoot);
    removePropagateDir(name);
    const pid = bootNode(node);
    updateNode(paths, name, (n) => (n.pid = pid));
    await waitReady(paths, { ...node, pid }, this.readyTimeoutMs);
    // A pebble started again has a new root: every node must trust that one (certificates it issued before do not chain to it).
    if (node.kind === "acme") await refreshLabTrust(paths, readState(paths) ?? state);
  }
}

/** The lab's PowerOperations. */
export function labPower(readyTimeoutMs?: number): LabPower {
  return new LabPower(readyTimeoutMs);
}
