/**
 * Data volumes: where a database node's data lives (PostgreSQL on `db`, the share on `share`) and the stable
 * device paths the bootstrap finds them by. Pure.
 */

/** The data volumes of a database machine (primary or standby). */
export const DATA_PURPOSES = ["db", "share"] as const;
export type DataPurpose = (typeof DATA_PURPOSES)[number];

/**
 * Stable device paths of a database node's data volumes, e.g. `/dev/disk/by-id/scsi-0DO_Volume_shop-production-db-1-db`.
 * Never a kernel name such as /dev/sdb or /dev/nvme1n1: those change between boots and instance types.
 */
export interface DataDevices {
  db: string;
  share: string;
}

/** The by-id path DigitalOcean gives a volume inside its droplet (SCSI id carrying the volume's name). */
export function digitalOceanVolumeDevice(volumeName: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(volumeName))
    throw new Error(`DigitalOcean volume name ${JSON.stringify(volumeName)} is not lower-case letters, digits and '-'`);
  return `/dev/disk/by-id/scsi-0DO_Volume_${volumeName}`;
}

/**
 * The by-id path of an EBS volume on a Nitro instance: NVMe devices appear as /dev/nvmeXn1 in any order, and
 * the attachment's device name (/dev/sdf) is only a hint; the NVMe serial carries the volume id without its dash.
 */
export function ebsVolumeDevice(volumeId: string): string {
  if (!/^vol-[0-9a-f]{8,17}$/.test(volumeId))
    throw new Error(`EBS volume id ${JSON.stringify(volumeId)} is not of the form vol-0123456789abcdef0`);
  return `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volumeId.replace("-", "")}`;
}

/** Directories of names udev keeps stable across boots (and device-mapper names). */
export const STABLE_DEVICE_PREFIXES = [
  "/dev/disk/by-id/",
  "/dev/disk/by-uuid/",
  "/dev/disk/by-label/",
  "/dev/disk/by-path/",
  "/dev/disk/by-partuuid/",
  "/dev/disk/by-partlabel/",
  "/dev/mapper/",
] as const;

/**
 * Why `value` is not usable as a data device path, with the fix; undefined when it is. The path travels into
 * bash arguments and unit files, so only the characters udev uses in these names are accepted.
 */
export function dataDeviceProblem(value: string): string | undefined {
  const examples =
    "e.g. /dev/disk/by-id/scsi-0DO_Volume_shop-production-db-1-db, /dev/disk/by-uuid/…, /dev/disk/by-label/… or /dev/disk/by-path/…";
  if (!/^\/dev\/[A-Za-z0-9._:+@=,/-]+$/.test(value) || value.includes("/../") || value.includes("/./")) {
    return `is not a device path; give the volume's stable path, ${examples}`;
  }
  const prefix = STABLE_DEVICE_PREFIXES.find((p) => value.startsWith(p));
  if (!prefix) {
    const kernelName = value.slice("/dev/".length);
    return `is a kernel device name, which can change at the next boot (on cloud NVMe they come in any order), and the bootstrap would format or mount the wrong disk; use its stable path: find it with \`ls -l /dev/disk/by-id/ | grep -w ${kernelName.split("/").pop()}\` (or by-uuid, by-label, by-path), ${examples}`;
  }
  if (value.length === prefix.length) return `names no device; ${examples}`;
  return undefined;
}

type DatabaseHosts = { databases: readonly { name: string; dataDevices?: DataDevices }[] };

/** What a plan says about where a node's data lives ("-" for nodes that hold none). Pure. */
export function dataPlacement(
  spec: { provider: string; volumes: { dbGb: number; shareGb: number }; hosts?: DatabaseHosts },
  node: { name: string; role: string },
): string {
  if (node.role !== "parent" && node.role !== "standby") return "-";
  if (spec.provider !== "hosts") return `volumes: db ${spec.volumes.dbGb} GB, share ${spec.volumes.shareGb} GB`;
  const d = spec.hosts?.databases.find((h) => h.name === node.name)?.dataDevices;
  return d ? `db ${d.db}, share ${d.share}` : "ROOT DISK (no dataDevices)";
}

/** hosts without dataDevices: the plain statement of what a machine replacement would lose. Pure. */
export function rootDiskDataNote(spec: { provider: string; hosts?: DatabaseHosts }): string | undefined {
  if (spec.provider !== "hosts" || !spec.hosts || spec.hosts.databases[0]?.dataDevices) return undefined;
  const [first, second] = spec.hosts.databases;
  return (
    `The data stays on the root disks: PostgreSQL (/var/lib/postgresql) and the share (/srv/share) of ${first.name} and ${second.name} live on their system disks. ` +
    `Reinstalling or replacing one of those machines loses its copy (the other node keeps the replica; losing both loses the database and the uploads). ` +
    `To keep the data on volumes of their own, set dataDevices on both entries of django-ha:hosts.databases to { db: /dev/disk/by-id/…, share: /dev/disk/by-id/… } (blank devices are formatted once, never again).`
  );
}
