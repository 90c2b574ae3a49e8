/**
 * What every release verb shares: one SSH connection per node for the run (opened on first use, all closed at the
 * end), a step that fails on a node as a StepError with its output, the inventory's children and worker, and the
 * releases on the share as the worker sees them. The verbs: deploy.ts (with build.ts), rollback.ts,
 * maintenance.ts; the scripts (scripts/deploy.ts, …) add the CLI, the stack lock and the confirmation.
 */
import { RELEASE_PATHS } from "../../roles/release";
import { UserError } from "../../model/errors";
import type { Inventory, InventoryNode } from "../../model";
import type { RemoteExecutor } from "../ssh/executor";
import { parseReleaseStatus, releaseStatus, type ReleaseStatus, type StatusPaths } from "./commands/status";

export const MINUTE = 60_000;

export interface ReleaseRunBase {
  inventory: Inventory;
  /** SSH to a node (pinned host keys); each node is connected once per run. */
  connect: (node: InventoryNode) => Promise<RemoteExecutor>;
  /** Progress: `node │ line`. */
  log: (node: string, line: string) => void;
}

/** Connections of one run, opened on first use, all closed by close(). */
export class Nodes {
  private open = new Map<string, Promise<RemoteExecutor>>();
  constructor(private readonly o: ReleaseRunBase) {}
  get(node: InventoryNode): Promise<RemoteExecutor> {
    let p = this.open.get(node.name);
    if (!p) {
      p = this.o.connect(node);
      this.open.set(node.name, p);
    }
    return p;
  }
  async run(node: InventoryNode, step: string, argv: readonly string[], timeoutMs: number): Promise<string> {
    const exec = await this.get(node);
    const r = await exec.run(argv, { timeoutMs });
    const out = [r.stdout.trimEnd(), r.stderr.trimEnd()].filter(Boolean).join("\n");
    if (r.code !== 0) throw new StepError(node.name, step, out || `exit ${r.code}`);
    return r.stdout;
  }
  async close(): Promise<void> {
    await Promise.all([...this.open.values()].map((p) => p.then((e) => e.close()).catch(() => undefined)));
  }
}

/** A step that failed on a node: what the run reports. */
export class StepError extends Error {
  constructor(
    readonly node: string,
    readonly step: string,
    readonly output: string,
  ) {
    super(
      `${node}: ${step} failed:\n${output
        .split("\n")
        .map((l) => `  | ${l}`)
        .join("\n")}`,
    );
  }
}

export function childrenAndWorker(inventory: Inventory): { children: InventoryNode[]; worker: InventoryNode } {
  const children = inventory.nodes.filter((n) => n.role === "child");
  const worker = inventory.nodes.find((n) => n.role === "worker");
  if (!worker) throw new UserError(`The inventory of cluster ${inventory.cluster} has no worker: releases are built on the worker.`);
  if (children.length === 0)
    throw new UserError(`The inventory of cluster ${inventory.cluster} has no child: there is nothing to run a release on.`);
  return { children, worker };
}

const statusPaths: StatusPaths = {
  releases: RELEASE_PATHS.releases,
  nodeCurrent: RELEASE_PATHS.nodeCurrent,
  shareCurrent: RELEASE_PATHS.shareCurrent,
  maintenanceFlag: RELEASE_PATHS.maintenanceFlag,
  readOnlyFlag: RELEASE_PATHS.readOnlyFlag,
};

export async function statusOn(nodes: Nodes, node: InventoryNode): Promise<ReleaseStatus> {
  return parseReleaseStatus(await nodes.run(node, "read the releases on the share", releaseStatus(statusPaths), MINUTE));
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
