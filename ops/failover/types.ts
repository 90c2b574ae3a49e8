/** What the failover runbook takes and returns (ops/failover/run.ts). */
import type { Inventory, InventoryNode } from "../../model";
import type { PowerOperations } from "../power/types";
import type { RemoteExecutor } from "../ssh/executor";
import type { FailoverKind, FenceMethod } from "./decide";

export interface FailoverOptions {
  stack: string;
  kind: FailoverKind;
  /** The stack's inventory as resolved now (after an interrupted run it may already name the new primary). */
  inventory: Inventory;
  journalFile: string;
  /** SSH to a node. `quick`: one short attempt (a machine that may be dead). */
  connect: (node: InventoryNode, quick: boolean) => Promise<RemoteExecutor>;
  /** Provider power operations, when the stack has them. */
  power?: PowerOperations;
  fence: FenceMethod;
  /** Runs --fence-command for the node (hosts). */
  runFenceCommand?: (command: string, node: InventoryNode) => Promise<void>;
  /** Typed confirmation that the operator powered the node off; false = not confirmed. */
  operatorConfirmsFenced?: (node: string) => Promise<boolean>;
  /** Record the new primary in the stack; returns what was done. Throws when it could not. */
  record: (primary: string) => Promise<string>;
  /** Planned: converge these nodes with the roles of the new inventory (a bootstrap without taking the stack lock again). */
  converge?: (inventory: Inventory, nodes: string[]) => Promise<{ ok: boolean; text: string }>;
  /** Ask before the destructive part. */
  confirm: (question: string) => Promise<boolean>;
  acceptDataLoss?: boolean;
  /** Print the plan and stop before anything changes. */
  dryRun?: boolean;
  log?: (line: string) => void;
  /** The command that makes the old primary the new standby, for the summary. Defaults to none (not built). */
  rejoinCommand?: string;
  /** How long the app check on the children may take. Defaults to 20 s. */
  verifyTimeoutMs?: number;
}

export interface FailoverResult {
  kind: FailoverKind;
  from: string;
  to: string;
  /** The run did everything (unreachable nodes excepted: see `unreachable`). */
  complete: boolean;
  /** Seconds from the start of the run to the promotion. */
  promotedAfter?: number;
  seconds: number;
  unreachable: Record<string, string>;
  summary: string[];
  journal?: string;
}
