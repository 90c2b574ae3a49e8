/**
 * Gather a cluster's status: the probe on every node over SSH (a few at a time, a progress line per node), the
 * record's members from the DNS provider, then the findings. Read-only: nothing on a node or in DNS changes.
 */
import pLimit from "p-limit";
import type { Inventory, InventoryNode } from "../../model";
import type { RecordMember } from "../dns/types";
import type { RemoteExecutor } from "../ssh/executor";
import { withFindings, type Thresholds } from "./evaluate";
import { parseProbe, probeCommand } from "./probe";
import type { ClusterStatus, NodeStatus, RecordStatus } from "./types";

export interface GatherOptions {
  stack: string;
  inventory: Inventory;
  /** One short SSH attempt to a node (a dead node must not hold the screen up). */
  connect: (node: InventoryNode) => Promise<RemoteExecutor>;
  /** The record's members as the DNS provider lists them. */
  readRecord: (fqdn: string) => Promise<RecordMember[]>;
  /** One line per node as it is asked and as it answers. */
  progress?: (node: string, line: string) => void;
  /** Nodes probed at once. Defaults to 8. */
  concurrency?: number;
  /** Seconds the probe may run on a node. Defaults to 30. */
  probeTimeoutSeconds?: number;
  thresholds?: Thresholds;
  now?: () => Date;
}

function unreachable(node: InventoryNode, error: string): NodeStatus {
  return {
    name: node.name,
    role: node.role,
    address: node.publicAddress,
    reachable: false,
    error,
    failedUnits: [],
    services: [],
    disks: [],
  };
}

async function probeNode(node: InventoryNode, o: GatherOptions): Promise<NodeStatus> {
  const say = (line: string) => o.progress?.(node.name, line);
  const started = Date.now();
  say("connecting");
  let exec: RemoteExecutor;
  try {
    exec = await o.connect(node);
  } catch (err) {
    const message = (err as Error).message.replace(new RegExp(`^${node.name}: `), "");
    say(`unreachable: ${message}`);
    return unreachable(node, `unreachable over SSH (${message})`);
  }
  try {
    const r = await exec.run(probeCommand(node.role, o.inventory.recordFqdn), { timeoutMs: (o.probeTimeoutSeconds ?? 30) * 1000 });
    if (r.code !== 0) throw new Error(`the probe exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-300)}`);
    const status = parseProbe(node, r.stdout);
    say(`answered in ${((Date.now() - started) / 1000).toFixed(1)} s: ${status.system}`);
    return status;
  } catch (err) {
    say(`probe failed: ${(err as Error).message}`);
    return unreachable(node, `SSH answered but the status probe failed (${(err as Error).message})`);
  } finally {
    await exec.close().catch(() => undefined);
  }
}

async function recordOf(fqdn: string, read: GatherOptions["readRecord"]): Promise<RecordStatus> {
  try {
    return { fqdn, members: await read(fqdn) };
  } catch (err) {
    return { fqdn, members: null, error: (err as Error).message };
  }
}

/** The cluster's status with its findings. Never throws for a node or DNS failure: those are findings. */
export async function gatherStatus(o: GatherOptions): Promise<ClusterStatus> {
  const limit = pLimit(o.concurrency ?? 8);
  const inv = o.inventory;
  const [nodes, record] = await Promise.all([
    Promise.all(inv.nodes.map((n) => limit(() => probeNode(n, o)))),
    recordOf(inv.recordFqdn, o.readRecord),
  ]);
  const now = (o.now ?? (() => new Date()))();
  return withFindings(
    {
      stack: o.stack,
      cluster: inv.cluster,
      takenAt: now.toISOString(),
      primary: inv.primary,
      standby: inv.standby,
      syncReplication: inv.syncReplication,
      record,
      nodes,
    },
    now,
    o.thresholds,
  );
}
