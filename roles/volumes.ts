/**
 * Data volumes of the database nodes: PostgreSQL's home (/var/lib/postgresql) on the `db` volume, the share
 * (/srv/share) on the `share` volume. A blank volume is formatted once; anything else is never formatted.
 * Mounted by filesystem UUID with systemd mount units; the services that keep data there require their mount
 * and refuse to start without it, so a missing volume never leads to data on the root disk.
 */
import type { DataPurpose, InventoryNode } from "../model";
import { PATHS } from "./context";
import { file } from "./actions";
import { mountUnitName, renderUnit, unitPath, UnitEntry, UnitFile } from "./files/systemd";
import { bashScript, heredoc, shellQuote as q } from "./shell";
import type { Action } from "./types";

/** ext4 labels (at most 16 characters): what `blkid`/`lsblk -f` show an operator looking at a disk. */
export const VOLUME_LABELS: Record<DataPurpose, string> = { db: "django-ha-db", share: "django-ha-share" };

/** PostgreSQL's home: every cluster (any major version) and the postgres user's .pgpass live below it. */
export const PG_HOME = "/var/lib/postgresql";

/** Where each volume is mounted. */
export const VOLUME_MOUNT_POINTS: Record<DataPurpose, string> = { db: PG_HOME, share: PATHS.share };

/** Units that keep data on each volume: stopped while a volume is put under them (they may run on the root disk until then). */
export const VOLUME_USERS: Record<DataPurpose, string[]> = {
  db: ["postgresql.service", "postgresql@*.service"],
  share: ["nfs-ganesha.service", "django-ha-share-sync.service"],
};

/** Placeholders the volume script fills in once it knows the filesystem. */
const UUID_SLOT = "@UUID@";
const FSTYPE_SLOT = "@FSTYPE@";

export interface DataVolume {
  purpose: DataPurpose;
  /** Stable device path from the inventory (by-id, by-path, …). */
  device: string;
  mountPoint: string;
  label: string;
  /** systemd mount unit name, e.g. var-lib-postgresql.mount. */
  mountUnit: string;
}

/** The node's data volumes; empty when its data stays on the root disk (no dataDevices). Pure. */
export function dataVolumes(node: Pick<InventoryNode, "dataDevices">): DataVolume[] {
  const d = node.dataDevices;
  if (!d) return [];
  return (["db", "share"] as const).map((purpose) => ({
    purpose,
    device: d[purpose],
    mountPoint: VOLUME_MOUNT_POINTS[purpose],
    label: VOLUME_LABELS[purpose],
    mountUnit: mountUnitName(VOLUME_MOUNT_POINTS[purpose], "mount"),
  }));
}

/**
 * The mount unit, with the filesystem's UUID and type as placeholders (known only on the machine).
 * `UUID=` goes to mount(8) as is: libblkid resolves it through udev's by-uuid links, or by probing the
 * kernel's block devices where no udev runs (the lab's containers).
 */
export function volumeMountUnitTemplate(v: DataVolume): UnitFile {
  return {
    name: v.mountUnit,
    sections: [
      [
        "Unit",
        [
          ["Description", `django-ha: the ${v.purpose} volume (${v.device})`],
          ["Before", "local-fs.target"],
        ],
      ],
      [
        "Mount",
        [
          ["What", `UUID=${UUID_SLOT}`],
          ["Where", v.mountPoint],
          ["Type", FSTYPE_SLOT],
          ["Options", "defaults,noatime"],
        ],
      ],
      ["Install", [["WantedBy", "local-fs.target"]]],
    ],
  };
}

/** The mount unit as the machine gets it, for a known filesystem. Pure (used by tests and the real-tool checks). */
export function renderVolumeMountUnit(v: DataVolume, uuid: string, fsType: string): string {
  return renderUnit(volumeMountUnitTemplate(v)).replace(UUID_SLOT, uuid).replace(FSTYPE_SLOT, fsType);
}

/**
 * Unit entries for a service that keeps data under `mountPoint`: with a volume, it requires the mount unit and
 * asserts a mount point is there (RequiresMountsFor= alone is satisfied by the root filesystem); without one,
 * it is only ordered after whatever filesystem holds the path.
 */
export function dataMountGuard(volumes: DataVolume[], purpose: DataPurpose): UnitEntry[] {
  const v = volumes.find((x) => x.purpose === purpose);
  if (!v) return [["RequiresMountsFor", VOLUME_MOUNT_POINTS[purpose]]];
  return [
    ["Requires", v.mountUnit],
    ["After", v.mountUnit],
    ["AssertPathIsMountPoint", v.mountPoint],
  ];
}

/** The volume is attached, and the mount point is free or already this volume (users stopped before anything changes). */
const volumeAttached = (v: DataVolume, users: readonly string[]) => `dev=${q(v.device)}
mnt=${q(v.mountPoint)}
unit=${q(v.mountUnit)}
label=${q(v.label)}
users=(${users.map(q).join(" ")})
stop_users() { systemctl stop -- "\${users[@]}" 2>/dev/null || true; }
if [ ! -b "$dev" ]; then
  if ! mountpoint -q "$mnt"; then stop_users; fi
  echo "the ${v.purpose} volume $dev is not attached (no block device there): refusing to keep ${v.purpose} data on the root disk; ${users.join(", ")} stay stopped. Attach the volume (or fix the node's dataDevices) and re-run the bootstrap." >&2
  exit 1
fi
dev_num=$(printf '%d:%d' "0x$(stat -L -c %t "$dev")" "0x$(stat -L -c %T "$dev")")
if mountpoint -q "$mnt"; then
  have=$(mountpoint -d "$mnt")
  if [ "$have" != "$dev_num" ]; then
    echo "$mnt is mounted from device $have, not from the ${v.purpose} volume $dev ($dev_num): not touching it. Unmount it (or fix dataDevices) and re-run." >&2
    exit 1
  fi
  mounted=1
else
  mounted=0
  stop_users
fi`;

/** Format only a blank device (no signature, nothing in the first MiB); refuse anything else unexplained. */
const formatIfBlank = (v: DataVolume) => `rc=0
probe=$(blkid -p -o export -- "$dev") || rc=$?
if [ "$rc" = 2 ]; then
  if [ -n "$(wipefs --no-act --noheadings -- "$dev")" ] || ! cmp -s -n 1048576 -- "$dev" /dev/zero; then
    echo "$dev holds data no filesystem signature explains (not blank): NOT formatting it. Look at it (wipefs -n $dev; head -c 4096 $dev | od -c | head), wipe it yourself only if it may go, and re-run." >&2
    exit 1
  fi
  echo "formatting the blank ${v.purpose} volume $dev: mkfs.ext4 -L $label"
  mkfs.ext4 -q -L "$label" -- "$dev"
  changed
  probe=$(blkid -p -o export -- "$dev")
elif [ "$rc" != 0 ]; then
  echo "blkid could not probe $dev (exit $rc): is it readable?" >&2
  exit 1
fi`;

/** Only ext4 and xfs are mounted; anything else is refused, never formatted. */
const checkFilesystem = () => `field() { printf '%s\\n' "$probe" | sed -n "s/^$1=//p"; }
fstype=$(field TYPE)
uuid=$(field UUID)
case "$fstype" in
  ext4|xfs) ;;
  *)
    pttype=$(field PTTYPE)
    if [ -n "$pttype" ]; then what="a $pttype partition table"; elif [ -n "$fstype" ]; then what="a $fstype signature ($(field USAGE))"; else what="a signature blkid cannot name"; fi
    echo "$dev holds $what, not an ext4 or xfs filesystem: NOT formatting and NOT mounting it. If it may go, wipe it yourself (wipefs -a $dev) and re-run; otherwise attach the right volume." >&2
    exit 1
    ;;
esac
if ! printf '%s' "$uuid" | grep -Eqi '^[0-9a-f-]{8,36}$'; then echo "$dev: the $fstype filesystem has no usable UUID ('$uuid')" >&2; exit 1; fi`;

/** The mount unit, by the filesystem's UUID and type. */
const installMountUnit = (unit: string) => `template=$(cat ${heredoc("DJANGO_HA_UNIT", unit)}
)
wanted=\${template//${UUID_SLOT}/$uuid}
wanted=\${wanted//${FSTYPE_SLOT}/$fstype}
unit_file="/etc/systemd/system/$unit"
if [ "$(cat "$unit_file" 2>/dev/null || true)" != "$wanted" ]; then
  printf '%s\\n' "$wanted" > "$unit_file"
  systemctl daemon-reload
  changed
fi`;

/** Seed an empty filesystem with what the root disk holds at the mount point (a copy). */
const seedIfEmpty = (v: DataVolume) => `if [ "$mounted" = 0 ]; then
  stage=$(mktemp -d /run/django-ha-volume.XXXXXX)
  mount -t "$fstype" -- "$dev" "$stage"
  trap 'umount "$stage" 2>/dev/null || true; rmdir "$stage" 2>/dev/null || true' EXIT
  if [ -z "$(find "$stage" -mindepth 1 -maxdepth 1 ! -name lost+found -print -quit)" ]; then
    if [ -d "$mnt" ]; then
      echo "seeding the empty ${v.purpose} volume with the root disk's $mnt (a copy: the root disk keeps its own, hidden under the mount)"
      cp -a -- "$mnt/." "$stage/"
      chown --reference="$mnt" "$stage"
      chmod --reference="$mnt" "$stage"
    fi
    changed
  fi
  umount "$stage"
  rmdir "$stage"
  trap - EXIT
  mkdir -p "$mnt"
fi`;

/** Enable and start the mount (and the by-uuid links in a container); check the right device is mounted. */
const mountVolume = () => `if ! systemctl is-enabled --quiet "$unit"; then systemctl enable --quiet "$unit"; changed; fi
# systemd 257 (Debian 13) mounts What=UUID=… through /dev/disk/by-uuid/, a link udev makes. A container has no
# udev (the lab's nodes): there the links unit makes it, now and at every boot before the mounts.
if systemd-detect-virt --container --quiet; then ${VOLUME_LINKS_SCRIPT}; fi
if ! systemctl is-enabled --quiet ${VOLUME_LINKS_UNIT}; then systemctl enable --quiet ${VOLUME_LINKS_UNIT}; changed; fi
if ! mountpoint -q "$mnt"; then systemctl start "$unit"; changed; fi
if [ "$(mountpoint -d "$mnt")" != "$dev_num" ]; then
  echo "$mnt is not mounted from $dev after starting $unit: see journalctl -u $unit" >&2
  exit 1
fi`;

/**
 * Find, format (only when blank), seed (only when its filesystem is empty) and mount one data volume.
 *
 * Blank means: blkid finds no signature, wipefs finds none, and the first MiB is zeros. Any filesystem is kept
 * (ext4 and xfs are mounted; others, partition tables, RAID or crypto members are refused, never formatted).
 * Seeding copies what the root disk holds at the mount point (Debian's freshly created default cluster, or an
 * older installation's data) into the empty filesystem; nothing is deleted, the root disk's copy stays hidden
 * under the mount.
 */
export function dataVolumeScript(v: DataVolume): Extract<Action, { kind: "script" }> {
  const unit = renderUnit(volumeMountUnitTemplate(v));
  const users = VOLUME_USERS[v.purpose];
  return {
    kind: "script",
    name: `volume-${v.purpose}`,
    script: bashScript(
      `${v.purpose} volume ${v.device} on ${v.mountPoint}`,
      [volumeAttached(v, users), formatIfBlank(v), checkFilesystem(), installMountUnit(unit), seedIfEmpty(v), mountVolume()].join("\n"),
    ),
  };
}

/** Makes the /dev/disk/by-uuid links of the node's data volumes where no udev makes them (containers). */
export const VOLUME_LINKS_SCRIPT = "/usr/local/sbin/django-ha-volume-links";
export const VOLUME_LINKS_UNIT = "django-ha-volume-links.service";

/**
 * The links udev would make for the data volumes' filesystems (/dev/disk/by-uuid/<uuid> → the kernel device),
 * for machines without udev. A link that exists is left alone (udev's, or an earlier run's); a volume that is
 * missing or blank is skipped (its mount, and the services that require it, then fail as they should).
 */
export function renderVolumeLinksScript(volumes: DataVolume[]): string {
  return `#!/usr/bin/env bash
# django-ha: /dev/disk/by-uuid links of the data volumes where no udev makes them
set -euo pipefail
for dev in ${volumes.map((v) => q(v.device)).join(" ")}; do
  if [ ! -b "$dev" ]; then echo "$dev: no block device (not attached): no link" >&2; continue; fi
  uuid=$(blkid -p -s UUID -o value -- "$dev" || true)
  if [ -z "$uuid" ]; then echo "$dev: no filesystem UUID (blank): no link"; continue; fi
  link="/dev/disk/by-uuid/$uuid"
  if [ -e "$link" ]; then continue; fi
  mkdir -p /dev/disk/by-uuid
  ln -sfn -- "$(readlink -f -- "$dev")" "$link"
  echo "$link -> $(readlink -f -- "$dev") ($dev)"
done
`;
}

/**
 * Runs the links script at every boot before the data volumes are mounted, in containers only: /dev is new at
 * each boot there and nothing else makes the links. Skipped on machines (udev makes them).
 */
export function volumeLinksUnit(volumes: DataVolume[]): UnitFile {
  return {
    name: VOLUME_LINKS_UNIT,
    sections: [
      [
        "Unit",
        [
          ["Description", "django-ha: /dev/disk/by-uuid links of the data volumes (containers have no udev)"],
          ["DefaultDependencies", false],
          ["ConditionVirtualization", "container"],
          ["Before", ["local-fs-pre.target", ...volumes.map((v) => v.mountUnit)].join(" ")],
          ["Wants", "local-fs-pre.target"],
        ],
      ],
      [
        "Service",
        [
          ["Type", "oneshot"],
          ["RemainAfterExit", true],
          ["ExecStart", VOLUME_LINKS_SCRIPT],
        ],
      ],
      ["Install", [["WantedBy", "local-fs.target"]]],
    ],
  };
}

/**
 * Every data volume of the node, in order (db first: PostgreSQL is what must never start on the root disk),
 * after the links script and its unit (the volume scripts run it and enable it).
 */
export function dataVolumeActions(volumes: DataVolume[]): Action[] {
  if (!volumes.length) return [];
  const unit = volumeLinksUnit(volumes);
  return [
    file(VOLUME_LINKS_SCRIPT, renderVolumeLinksScript(volumes), "0755"),
    file(unitPath(unit.name), renderUnit(unit)),
    ...volumes.map(dataVolumeScript),
  ];
}
