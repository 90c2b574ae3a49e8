/** The running lab as it is: SSH to a node, each machine's state, and its ACME CA. */
import { UserError } from "../model";
import { labPaths, type LabPaths } from "./config";
import { run } from "../ops/process";
import { currentKind } from "./plan";
import { alive } from "./procs";
import { sshCommand } from "./ssh";
import { readState } from "./state";
import { labInventory } from "./inventory";

/** Run a command on a node over SSH (pinned key). */
export async function labSsh(node: string, remote: string[], opts: { timeoutMs?: number } = {}) {
  const paths = labPaths();
  const state = readState(paths);
  const n = state?.nodes[node];
  if (!state || !n)
    throw new UserError(
      state ? `No lab node "${node}". Lab nodes: ${Object.keys(state.nodes).join(", ")}.` : "No lab is up: run `npm run lab -- up` first.",
    );
  return run(sshCommand(paths, n.address, remote), { allowFail: true, timeoutMs: opts.timeoutMs ?? 60_000 });
}

export interface NodeStatus {
  name: string;
  address: string;
  kind: string;
  pid?: number;
  running: boolean;
  /** systemctl is-system-running over SSH, or the SSH error. */
  system: string;
  failedUnits: string[];
}

/** Per machine: process alive, and what systemd says over SSH. */
export async function labStatus(): Promise<NodeStatus[]> {
  const paths = labPaths();
  const state = readState(paths);
  if (!state) return [];
  // Roles as the stack says now (a failover recorded in django-ha:primary changes them), not as at `up`.
  const inventory = labInventory(state.stack ?? "lab");
  return Promise.all(
    Object.values(state.nodes).map(async (n): Promise<NodeStatus> => {
      const running = !!n.pid && alive(n.pid);
      const kind = currentKind(n, inventory);
      if (!running) return { name: n.name, address: n.address, kind, pid: n.pid, running, system: "stopped", failedUnits: [] };
      const r = await run(
        sshCommand(paths, n.address, [
          "sh",
          "-c",
          "systemctl is-system-running; systemctl list-units --failed --plain --no-legend | cut -d' ' -f1",
        ]),
        { allowFail: true, timeoutMs: 10_000 },
      );
      const lines = r.stdout.trim().split("\n").filter(Boolean);
      return {
        name: n.name,
        address: n.address,
        kind,
        pid: n.pid,
        running,
        system: r.code === 255 ? `ssh failed: ${r.stderr.trim()}` : (lines[0] ?? "?"),
        failedUnits: lines.slice(1),
      };
    }),
  );
}

/** The running lab's ACME CA: its directory, certificate lifetime and the files clients verify with. */
export interface LabAcme {
  directoryUrl: string;
  validitySeconds: number;
  /** pebble's issuing root: what clients of the cluster verify against (curl --cacert). */
  roots: string;
  /** The lab CA: what clients of pebble itself verify against. */
  labCa: string;
}

export function labAcme(paths: LabPaths = labPaths()): LabAcme | undefined {
  const acme = readState(paths)?.acme;
  return acme && { ...acme, roots: paths.pebbleRoots, labCa: paths.labCa };
}
