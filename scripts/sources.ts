/**
 * The machine sources the operator verbs know besides exported inventories (--inventory) and hosts stack
 * files: the local lab (lab/source.ts). The one place a new source is added; ops/ takes them as given.
 */
import type { InventorySource } from "../ops/bootstrap/source";
import type { ResolveStackOptions } from "../ops/bootstrap/stack";
import { labSource } from "../lab/source";

export function machineSources(): InventorySource[] {
  return [labSource()];
}

/** The options every verb takes to find its stack and reach its machines. */
export interface StackCliOptions {
  stack: string;
  inventory?: string;
  identity?: string;
  knownHosts?: string;
}

/** What resolveStack needs from a verb's options, with the machine sources. `offline`: a dry run (contacts nothing). */
export function stackQuery(o: StackCliOptions, offline?: boolean): ResolveStackOptions {
  return { stack: o.stack, inventoryFile: o.inventory, identity: o.identity, knownHosts: o.knownHosts, offline, sources: machineSources() };
}
