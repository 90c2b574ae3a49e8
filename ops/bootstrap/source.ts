/**
 * Where a stack's machines come from. ops knows two sources itself, an inventory exported from a cloud stack
 * (`--inventory`) and a hosts stack file, and asks the sources its caller injects before the stack file: the
 * lab's (lab/source.ts), handed in by scripts/. ops never names a source's files: a source says where its
 * inventory, SSH key and pinned host keys are, and what it holds itself instead of the operator's environment.
 */
import type { ClusterSpec, Inventory } from "../../model";
import type { ShareMount } from "../../roles/types";
import type { PowerOperations } from "../power/types";

/** A machine source a caller injects (the lab's: lab/source.ts). */
export interface InventorySource {
  /**
   * This source's machines of `stack` (its validated stack file: `spec`), or undefined when it does not hold them
   * (the next source, then the stack file, is asked). `offline`: a plan that contacts nothing, so a source that is
   * not running may answer from the stack file instead of refusing.
   */
  machinesOf(stack: string, spec: ClusterSpec, offline: boolean): SourcedMachines | undefined;
}

/** A source's answer: the inventory, how to reach the machines, and what the source holds itself. */
export interface SourcedMachines {
  inventory: Inventory;
  /** Where the inventory came from, for messages. */
  inventorySource: string;
  /** The SSH private key the machines authorize (`--identity` still wins). */
  identityFile: string;
  /** The pinned host keys (`--known-hosts` still wins). */
  knownHostsPath: string;
  capabilities: SourceCapabilities;
}

/**
 * What a source provides itself instead of the operator's environment and the stack file. Every member is
 * optional: without it the bootstrap and the runbook do what they do for any hosts or cloud stack.
 */
export interface SourceCapabilities {
  /** How children and the worker see the share for an inventory's roles (they change after a failover). Defaults to "nfs". */
  shareMountFor?(inventory: Pick<Inventory, "nodes" | "primary">): ShareMount;
  /**
   * The base64 secret of the TSIG key `keyName` (the record's, certificate.dnsKeyName, health.dnsKeyName) when
   * the source made the DNS server's keys itself. Defaults to the environment (DJANGO_HA_*_TSIG_SECRET).
   */
  tsigSecret?(keyName: string): string;
  /**
   * Values of app.secretKeys the environment does not give are generated once and kept in the stack's state
   * directory (a source without secret config of its own). Defaults to false: they come from DJANGO_HA_APP_SECRETS.
   */
  generatesAppSecrets?: boolean;
  /** Power (fencing) of these machines for the failover runbook. Defaults to none (a hosts stack fences by command or by hand). */
  power?(): Promise<PowerOperations>;
  /**
   * Record the new primary after a failover where the source keeps it, instead of the stack file; returns what
   * was done, for the runbook's output. Defaults to the stack file (hosts) or Pulumi's config (clouds).
   */
  recordPrimary?(primary: string): string;
}
