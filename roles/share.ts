/** The share: its layout (on the database nodes), and how children and the worker see it. */
import { APP_USER, ClusterFacts, PATHS } from "./context";
import { file, started } from "./actions";
import { mountUnitName, renderUnit, unitPath, UnitFile } from "./files/systemd";
import { directoriesScript, shareBindScript } from "./scripts";
import { RELEASE_PATHS } from "./release";
import type { Inventory } from "../model";
import type { Action, ShareMount } from "./types";

const u = APP_USER.name;

/** Top of the share root-owned (so the app cannot replace the share-sync key), everything below the app's. */
export function shareLayoutScript(): Action {
  return directoriesScript("share-layout", [
    { path: PATHS.share, owner: "root", group: u, mode: "0755" },
    { path: PATHS.media, owner: u, group: u, mode: "0755" },
    { path: PATHS.static, owner: u, group: u, mode: "0755" },
    { path: PATHS.releases, owner: u, group: u, mode: "0755" },
    { path: PATHS.acme, owner: u, group: u, mode: "0755" },
    { path: `${PATHS.acme}/.well-known`, owner: u, group: u, mode: "0755" },
    { path: `${PATHS.acme}/.well-known/acme-challenge`, owner: u, group: u, mode: "0755" },
    { path: PATHS.tls, owner: u, group: u, mode: "0750" },
    // The app's own corners (app/djangoha_app/settings.py): /health/ tokens, upload temp files, video sources.
    { path: `${PATHS.share}/.health`, owner: u, group: u, mode: "0755" },
    { path: `${PATHS.share}/tmp`, owner: u, group: u, mode: "0750" },
    { path: `${PATHS.share}/private`, owner: u, group: u, mode: "0750" },
    // Maintenance and read-only flags (npm run maintenance); nginx (www-data) tests them.
    { path: RELEASE_PATHS.flags, owner: u, group: u, mode: "0755" },
  ]);
}

/**
 * The share's NFS client options. `hard` + `timeo=600,retrans=2`: a slow server stalls I/O rather than failing it.
 * `acdirmin=1,acdirmax=3`: a directory's cached attributes (which also vouch for the names found or not found in it)
 * are trusted for at most 3 s instead of Linux's default 30–60 s, so a maintenance or read-only flag created or
 * removed by another node is seen by nginx within about 3 s (docs/releases.md). File attributes keep their defaults.
 */
export const SHARE_NFS_OPTIONS = "_netdev,vers=4.1,hard,noatime,timeo=600,retrans=2,acdirmin=1,acdirmax=3";

/** NFSv4.1 mount of the primary's export, mounted on first access (the automount is what is enabled). */
export function shareMountUnits(f: ClusterFacts): UnitFile[] {
  const mount: UnitFile = {
    name: mountUnitName(PATHS.share, "mount"),
    sections: [
      [
        "Unit",
        [
          ["Description", "django-ha: the share from the primary (NFSv4)"],
          ["Wants", "network-online.target"],
          ["After", "network-online.target"],
        ],
      ],
      [
        "Mount",
        [
          ["What", `${f.primaryHostname}:${PATHS.share}`],
          ["Where", PATHS.share],
          ["Type", "nfs4"],
          ["Options", SHARE_NFS_OPTIONS],
          ["TimeoutSec", 60],
        ],
      ],
    ],
  };
  const automount: UnitFile = {
    name: mountUnitName(PATHS.share, "automount"),
    sections: [
      ["Unit", [["Description", "django-ha: mount the share on first access"]]],
      [
        "Automount",
        [
          ["Where", PATHS.share],
          ["TimeoutIdleSec", 0],
        ],
      ],
      ["Install", [["WantedBy", "remote-fs.target"]]],
    ],
  };
  return [mount, automount];
}

/**
 * lab-device: the primary's share volume, which the lab binds into this node at the primary's own device path,
 * mounted at /srv/share. The parent formats it; this side never does (a mount of a blank device just fails).
 */
export function labShareDeviceUnit(f: ClusterFacts): UnitFile {
  const device = f.parent.dataDevices?.share;
  if (!device) {
    throw new Error(
      `shareMount "lab-device" needs the primary's share volume, but inventory node ${f.parent.name} has no dataDevices: give the lab stack's parent and standby dataDevices, or use shareMount "lab-bind"`,
    );
  }
  return {
    name: mountUnitName(PATHS.share, "mount"),
    sections: [
      ["Unit", [["Description", `django-ha (lab): the primary's share volume ${device}, standing in for the NFS mount`]]],
      [
        "Mount",
        [
          ["What", device],
          ["Where", PATHS.share],
        ],
      ],
      ["Install", [["WantedBy", "local-fs.target"]]],
    ],
  };
}

/** How the lab's children and worker see the share: the primary's share device when it has volumes, else the bound host dir. Pure. */
export function labShareMount(inventory: Pick<Inventory, "nodes" | "primary">): ShareMount {
  return inventory.nodes.find((n) => n.name === inventory.primary)?.dataDevices ? "lab-device" : "lab-bind";
}

/** Children and the worker: the NFS mount, or (lab) the primary's share device, or a check that the lab bound the share. */
export function shareClientActions(f: ClusterFacts): Action[] {
  const mode = f.ctx.shareMount;
  switch (mode) {
    case "nfs": {
      const units = shareMountUnits(f);
      return [
        ...units.map((unit) => file(unitPath(unit.name), renderUnit(unit))),
        started(
          units[1].name,
          units.map((unit) => unitPath(unit.name)),
        ),
      ];
    }
    case "lab-bind":
      return [shareBindScript(PATHS.share)];
    case "lab-device": {
      const unit = labShareDeviceUnit(f);
      return [file(unitPath(unit.name), renderUnit(unit)), started(unit.name, [unitPath(unit.name)]), shareBindScript(PATHS.share)];
    }
    default: {
      const never: never = mode;
      throw new Error(`shareMount ${JSON.stringify(never)} is not known: use "nfs", "lab-bind" or "lab-device"`);
    }
  }
}
