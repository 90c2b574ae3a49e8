/**
 * Which database machine is the lab's primary after a failover. The tracked stacks/Pulumi.lab.yaml is never
 * modified: the record lives beside the lab's volumes (.lab/primary/<stack>.json), because the volumes hold
 * the databases it describes; `up` and the bootstrap read the lab's inventory through it. Removing the
 * volumes removes the record (a fresh database pair starts from the stack's primary again).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { UserError, withPrimary, type Inventory } from "../model";
import { labPaths, type LabPaths } from "./config";

export function labRecordDir(paths: LabPaths = labPaths()): string {
  return path.join(paths.root, "primary");
}

function recordFile(stack: string, paths: LabPaths): string {
  return path.join(labRecordDir(paths), `${stack}.json`);
}

/** The primary recorded by a failover of this lab stack, if any. */
export function readLabPrimary(stack: string, paths: LabPaths = labPaths()): string | undefined {
  const file = recordFile(stack, paths);
  if (!fs.existsSync(file)) return undefined;
  const data = JSON.parse(fs.readFileSync(file, "utf8")) as { primary?: unknown };
  if (typeof data.primary !== "string") throw new UserError(`${file} names no primary; remove it to fall back to the stack's primary.`);
  return data.primary;
}

/** The inventory with the recorded primary applied (unchanged without a record). */
export function withLabRecord(inventory: Inventory, stack: string, paths: LabPaths = labPaths()): Inventory {
  const primary = readLabPrimary(stack, paths);
  if (!primary || primary === inventory.primary) return inventory;
  if (primary !== inventory.standby)
    throw new UserError(
      `The lab's record ${recordFile(stack, paths)} names ${primary} as primary, which is not a database machine of stack ${stack} (${inventory.primary}, ${inventory.standby}). Remove the file if the stack changed.`,
    );
  return withPrimary(inventory, primary);
}

/** Record the lab stack's primary and rewrite the running lab's inventory with it. Returns what was done. */
export function recordLabPrimary(stack: string, primary: string, paths: LabPaths = labPaths()): string {
  const file = recordFile(stack, paths);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify({ primary, recordedAt: new Date().toISOString() }, null, 2)}\n`);
  if (fs.existsSync(paths.inventory)) {
    const inv = JSON.parse(fs.readFileSync(paths.inventory, "utf8")) as Inventory;
    fs.writeFileSync(paths.inventory, `${JSON.stringify(withPrimary(inv, primary), null, 2)}\n`);
  }
  return `${path.relative(process.cwd(), file)}: primary = ${primary}; ${path.relative(process.cwd(), paths.inventory)} rewritten (stacks/Pulumi.${stack}.yaml untouched)`;
}
