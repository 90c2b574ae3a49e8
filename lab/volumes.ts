/**
 * The lab's data volumes: a sparse file per volume on the host (<LAB_DIR>/volumes/<node>-<purpose>.img),
 * attached as a loop device and bound into the node at the stack's by-id path (and at its kernel name, as a
 * machine's devtmpfs shows it beside udev's links). The node's roles then find, format and mount it exactly as
 * on a cloud machine. The files are the data: `lab down` detaches the loop devices and keeps the files;
 * `lab remove-volumes` deletes them (after asking).
 *
 * Measured on this host (kernel 6.18, systemd 252 in the nodes): nspawn's --bind of /dev/loopN makes a
 * working block device inside the node (mkfs.ext4 and mount succeed as root); systemd there adds no .device
 * dependency to a mount unit (device units are unsupported without udev), so nothing waits for a device
 * unit that never appears, while an explicit Requires= on a .device unit fails after its timeout; `mount
 * UUID=…` finds the filesystem only when the kernel name (/dev/loopN) exists in the node, hence both binds.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DATA_PURPOSES, UserError, type DataPurpose, type Inventory } from "../model";
import type { LabPaths } from "./config";
import { run } from "../ops/process";

/** Sizes of the sparse volume files (they take only what the filesystems write). */
export const LAB_VOLUME_MB: Record<DataPurpose, number> = { db: 2048, share: 4096 };

/** Where the lab presents volumes: the by-id directory, like DigitalOcean's and AWS's volumes. */
export const LAB_DEVICE_DIR = "/dev/disk/by-id/";

export interface LabVolume {
  node: string;
  purpose: DataPurpose;
  /** Path inside the node (the stack's dataDevices entry). */
  guest: string;
  /** Backing file on the host. */
  file: string;
  sizeMb: number;
}

export interface AttachedVolume extends LabVolume {
  /** Loop device on the host, e.g. /dev/loop3. */
  loop: string;
}

export function volumesDir(paths: Pick<LabPaths, "root">): string {
  return path.join(paths.root, "volumes");
}

/** The volumes a stack's inventory asks for (parent and standby with dataDevices). Checks the paths first. Pure. */
export function labVolumes(inv: Pick<Inventory, "nodes">, paths: Pick<LabPaths, "root">): LabVolume[] {
  const problems: string[] = [];
  const volumes: LabVolume[] = [];
  for (const n of inv.nodes) {
    if (!n.dataDevices) continue;
    for (const purpose of DATA_PURPOSES) {
      const guest = n.dataDevices[purpose];
      if (!guest.startsWith(LAB_DEVICE_DIR) || !/^[A-Za-z0-9._:+@=,-]+$/.test(guest.slice(LAB_DEVICE_DIR.length))) {
        problems.push(
          `django-ha:hosts (node ${n.name}).dataDevices.${purpose} = ${JSON.stringify(guest)}: the lab presents volumes under ${LAB_DEVICE_DIR}; use e.g. ${LAB_DEVICE_DIR}scsi-0LAB_Volume_${n.name}-${purpose}`,
        );
      }
      volumes.push({
        node: n.name,
        purpose,
        guest,
        file: path.join(volumesDir(paths), `${n.name}-${purpose}.img`),
        sizeMb: LAB_VOLUME_MB[purpose],
      });
    }
  }
  if (problems.length) throw new UserError(`The lab cannot present these volumes:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return volumes;
}

/** `losetup --list` output → loop device by backing file. Pure. */
export function parseLoops(json: string): Map<string, string> {
  const parsed = JSON.parse(json || "{}") as { loopdevices?: { name: string; "back-file": string | null }[] };
  const out = new Map<string, string>();
  for (const d of parsed.loopdevices ?? []) if (d["back-file"]) out.set(d["back-file"].replace(/ \(deleted\)$/, ""), d.name);
  return out;
}

async function loopsByFile(): Promise<Map<string, string>> {
  return parseLoops((await run({ cmd: "losetup", args: ["--list", "--json", "--output", "NAME,BACK-FILE"] })).stdout);
}

/** Loop devices backed by files of the lab's volumes directory (attached by this lab, found from the kernel). */
export async function labLoops(paths: Pick<LabPaths, "root">): Promise<string[]> {
  const dir = volumesDir(paths) + path.sep;
  return [...(await loopsByFile())]
    .filter(([file]) => file.startsWith(dir))
    .map(([, loop]) => loop)
    .sort();
}

/** Create missing volume files (sparse) and attach each once; an attached file keeps its loop device. */
export async function attachVolumes(volumes: LabVolume[], log: (line: string) => void): Promise<AttachedVolume[]> {
  const attached = await loopsByFile();
  const out: AttachedVolume[] = [];
  for (const v of volumes) {
    fs.mkdirSync(path.dirname(v.file), { recursive: true });
    if (!fs.existsSync(v.file)) {
      await run({ cmd: "truncate", args: ["-s", `${v.sizeMb}M`, v.file] });
      log(`volume ${path.basename(v.file)}: new blank ${v.sizeMb} MiB sparse file`);
    }
    let loop = attached.get(v.file);
    if (!loop) loop = (await run({ cmd: "losetup", args: ["--find", "--show", v.file] })).stdout.trim();
    out.push({ ...v, loop });
  }
  return out;
}

/** Detach every loop device of the lab's volume files (their mounts must be gone: nodes stopped). Keeps the files. */
export async function detachVolumes(paths: Pick<LabPaths, "root">): Promise<string[]> {
  const loops = await labLoops(paths);
  for (const loop of loops) await run({ cmd: "losetup", args: ["--detach", loop] }, { allowFail: true });
  return loops;
}

/** The volume files on the host (what `remove-volumes` would delete). */
export function volumeFiles(paths: Pick<LabPaths, "root">): string[] {
  const dir = volumesDir(paths);
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".img"))
        .map((f) => path.join(dir, f))
        .sort()
    : [];
}
