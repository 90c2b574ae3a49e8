/**
 * The lab as a machine source for the bootstrap, the runbook and the release verbs (ops/bootstrap/source.ts):
 * its inventory (.lab/inventory.json), its SSH key and pinned host keys, the TSIG keys it made for its DNS
 * server, generated app secrets, its share devices, its nspawn power and its record of the primary.
 * scripts/ hand it to ops; ops never names these paths.
 */
import * as fs from "node:fs";
import { hostsInventory, UserError, type ClusterSpec, type Inventory } from "../model";
import { labShareMount } from "../roles/share";
import type { InventorySource, SourceCapabilities, SourcedMachines } from "../ops/bootstrap/source";
import { parseInventory } from "../ops/bootstrap/stack";
import { ACME_TSIG_KEY_NAME, HEALTH_TSIG_KEY_NAME, labPaths, TSIG_KEY_NAME, type LabPaths } from "./config";
import { readAcmeTsigKey, readHealthTsigKey, readTsigKey, type TsigKey } from "./keys";
import { recordLabPrimary } from "./record";

/** The lab's TSIG keys by name: the record's (lab-update), DNS-01's (lab-acme), the health agent's (lab-health). */
const LAB_TSIG_KEYS: Record<string, (paths: LabPaths) => TsigKey> = {
  [TSIG_KEY_NAME]: readTsigKey,
  [ACME_TSIG_KEY_NAME]: readAcmeTsigKey,
  [HEALTH_TSIG_KEY_NAME]: readHealthTsigKey,
};

/** The secret of one of the lab's TSIG keys, by the name a stack file gives it. */
export function labTsigSecret(paths: LabPaths, keyName: string): string {
  const read = LAB_TSIG_KEYS[keyName];
  if (!read)
    throw new UserError(
      `The lab's DNS server has no TSIG key ${JSON.stringify(keyName)}: its keys are ${Object.keys(LAB_TSIG_KEYS).join(", ")}; name one of them in the stack file (django-ha:dns.tsigKeyName, certificate.dnsKeyName, health.dnsKeyName)`,
    );
  return read(paths).secret;
}

/** What the lab provides itself for a stack it runs. */
export function labCapabilities(stack: string, paths: LabPaths = labPaths()): SourceCapabilities {
  return {
    shareMountFor: labShareMount,
    tsigSecret: (keyName) => labTsigSecret(paths, keyName),
    generatesAppSecrets: true,
    power: async () => (await import("./power")).labPower(),
    recordPrimary: (primary) => recordLabPrimary(stack, primary, paths),
  };
}

/** The lab's machines of a stack with this inventory (read from .lab/inventory.json, or handed to an after-boot hook). */
export function labMachines(stack: string, inventory: Inventory, inventorySource: string, paths: LabPaths = labPaths()): SourcedMachines {
  return {
    inventory,
    inventorySource,
    identityFile: paths.sshKey,
    knownHostsPath: paths.knownHosts,
    capabilities: labCapabilities(stack, paths),
  };
}

/** Same node names and addresses: the running lab was booted from this hosts stack (e.g. `lab-wide`). */
function runsStack(paths: LabPaths, spec: ClusterSpec): boolean {
  if (spec.provider !== "hosts" || !fs.existsSync(paths.inventory)) return false;
  const key = (nodes: { name: string; publicAddress: string }[]) =>
    nodes
      .map((n) => `${n.name}@${n.publicAddress}`)
      .sort()
      .join(",");
  return key(parseInventory(fs.readFileSync(paths.inventory, "utf8"), paths.inventory).nodes) === key(hostsInventory(spec).nodes);
}

/**
 * The lab as an InventorySource: it holds stack "lab", and any hosts stack the running lab was booted from.
 * Not up: refused, except for a plan (`offline`), which takes the inventory from the stack file.
 */
export function labSource(paths: LabPaths = labPaths()): InventorySource {
  return {
    machinesOf(stack, spec, offline) {
      if (stack !== "lab" && !runsStack(paths, spec)) return undefined;
      if (fs.existsSync(paths.inventory))
        return labMachines(stack, parseInventory(fs.readFileSync(paths.inventory, "utf8"), paths.inventory), paths.inventory, paths);
      if (!offline || spec.provider !== "hosts")
        throw new UserError(`The lab is not up: ${paths.inventory} does not exist. Start it with: npm run lab -- up`);
      return labMachines(stack, hostsInventory(spec), `stacks/Pulumi.${stack}.yaml (the lab is not up)`, paths);
    },
  };
}
