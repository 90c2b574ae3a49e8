/** parent: PostgreSQL primary, the NFS export of the share, Redis broker, share replication to the standby. No web traffic. */
import { ClusterFacts, PATHS } from "./context";
import { file, masked, pathsOf, started } from "./actions";
import { ganeshaListeningCheck, postgresAcceptingCheck, redisPingCheck, slotExistsCheck } from "./checks";
import {
  ganeshaConfFile,
  networkOnlineDropIn,
  NFS_CONFLICTS,
  pgHbaFile,
  pgPassFile,
  POSTGRES_UNIT,
  postgresConfFile,
  redisConfFile,
} from "./db";
import { bootGuardFiles, bootGuardScript } from "./guard";
import { renderLsyncdConf } from "./files/lsyncd";
import { renderUnit, unitPath, UnitFile } from "./files/systemd";
import { legacySharePlaceholderScript, pgRolesScript, replicationSlotScript, shareSyncKeyScript, strictSyncScript } from "./scripts";
import { acmeAgentActions } from "./acme";
import { healthAgentActions } from "./health";
import { shareCertDir } from "./tls";
import { shareLayoutScript } from "./share";
import { renderSyncWatchdog } from "./watchdog";
import type { Action, Check } from "./types";
import type { InventoryNode } from "../model";
import { dataMountGuard, dataVolumeActions, dataVolumes, DataVolume } from "./volumes";

export const LSYNCD_CONF = "/etc/django-ha/lsyncd.conf.lua";
export const SHARE_SYNC_UNIT = "django-ha-share-sync.service";
export const WATCHDOG_SCRIPT = "/usr/local/sbin/django-ha-sync-watchdog";
export const WATCHDOG_SERVICE = "django-ha-sync-watchdog.service";
export const WATCHDOG_TIMER = "django-ha-sync-watchdog.timer";
/** degrade-to-async: seconds without a streaming standby before commits stop waiting for it. */
export const DEGRADE_AFTER_SECONDS = 10;

export function shareSyncUnit(volumes: DataVolume[] = []): UnitFile {
  return {
    name: SHARE_SYNC_UNIT,
    sections: [
      [
        "Unit",
        [
          ["Description", "django-ha: replicate the share to the standby (lsyncd, rsync over ssh)"],
          ["Wants", "network-online.target"],
          ["After", "network-online.target"],
          ...dataMountGuard(volumes, "share"),
        ],
      ],
      [
        "Service",
        [
          ["Type", "simple"],
          ["ExecStart", `/usr/bin/lsyncd -nodaemon ${LSYNCD_CONF}`],
          ["StateDirectory", "django-ha"],
          ["Restart", "always"],
          ["RestartSec", 5],
        ],
      ],
      ["Install", [["WantedBy", "multi-user.target"]]],
    ],
  };
}

export function watchdogUnits(): UnitFile[] {
  return [
    {
      name: WATCHDOG_SERVICE,
      sections: [
        [
          "Unit",
          [
            ["Description", "django-ha: drop synchronous replication to async while the standby is away (degrade-to-async)"],
            ["After", `${POSTGRES_UNIT}.service`],
          ],
        ],
        [
          "Service",
          [
            ["Type", "oneshot"],
            ["ExecStart", WATCHDOG_SCRIPT],
            ["StateDirectory", "django-ha"],
          ],
        ],
      ],
    },
    {
      name: WATCHDOG_TIMER,
      sections: [
        ["Unit", [["Description", "django-ha: run the synchronous replication watchdog every 5 s"]]],
        [
          "Timer",
          [
            ["OnBootSec", "30s"],
            ["OnUnitActiveSec", "5s"],
            ["AccuracySec", "1s"],
          ],
        ],
        ["Install", [["WantedBy", "timers.target"]]],
      ],
    },
  ];
}

function syncPolicyActions(f: ClusterFacts): Action[] {
  const policy = f.ctx.inventory.syncReplication;
  switch (policy) {
    case "strict":
      return [strictSyncScript([WATCHDOG_TIMER, WATCHDOG_SERVICE])];
    case "degrade-to-async": {
      const units = watchdogUnits();
      return [
        file(
          WATCHDOG_SCRIPT,
          renderSyncWatchdog({
            graceSeconds: DEGRADE_AFTER_SECONDS,
            restoreLagBytes: 16 * 1024 * 1024,
            stateFile: "/var/lib/django-ha/sync-watchdog.since",
          }),
          "0755",
        ),
        ...units.map((u) => file(unitPath(u.name), renderUnit(u))),
        started(
          WATCHDOG_TIMER,
          units.map((u) => unitPath(u.name)),
        ),
      ];
    }
    default: {
      const never: never = policy;
      throw new Error(`syncReplication ${JSON.stringify(never)} is not known: use "strict" or "degrade-to-async"`);
    }
  }
}

export function parentActions(node: InventoryNode, f: ClusterFacts): Action[] {
  const pgConf = postgresConfFile(node, f);
  const hba = pgHbaFile(f);
  const ganesha = ganeshaConfFile(f);
  const redis = redisConfFile(node, f);
  // ops daemon-reloads when a unit file or drop-in changed; the restart makes the new ordering hold for this run too.
  const volumes = dataVolumes(node);
  const pgDropIn = networkOnlineDropIn("postgresql@.service", volumes.length ? dataMountGuard(volumes, "db") : []);
  const redisDropIn = networkOnlineDropIn("redis-server.service");
  const ganeshaDropIn = networkOnlineDropIn("nfs-ganesha.service", dataMountGuard(volumes, "share"));
  const lsyncd = file(
    LSYNCD_CONF,
    renderLsyncdConf({
      source: `${PATHS.share}/`,
      targetHost: `root@${f.standby.privateAddress}`,
      identityFile: PATHS.shareSyncKey,
      knownHostsFile: `${PATHS.shareSyncKey}.known_hosts`,
      delaySeconds: 1,
      sshPort: f.sshPort,
      statusFile: "/var/lib/django-ha/lsyncd.status",
    }),
  );
  const syncUnit = shareSyncUnit(volumes);
  const syncUnitFile = file(unitPath(syncUnit.name), renderUnit(syncUnit));
  return [
    // Data volumes: the units that keep data there require their mount before the volumes are put in place.
    ...(volumes.length ? [pgDropIn, ganeshaDropIn, syncUnitFile, ...dataVolumeActions(volumes)] : []),
    // The share (releases are built on the worker: roles/release.ts).
    shareLayoutScript(),
    // Children make their own placeholder now; the share holds only what the agent issues (keys encrypted).
    legacySharePlaceholderScript(shareCertDir(f.fqdn)),
    // PostgreSQL primary, once the boot guard agrees (it asks the standby whether it took over; .pgpass for that).
    ...(volumes.length ? [] : [pgDropIn]),
    pgConf,
    hba,
    pgPassFile(f),
    ...bootGuardFiles(f.standby, dataMountGuard(volumes, "db")),
    bootGuardScript("parent"),
    started(POSTGRES_UNIT, [pgConf.file.path, pgDropIn.file.path]),
    started(POSTGRES_UNIT, [hba.file.path], { reload: true }),
    pgRolesScript({ app: f.ctx.secrets.dbPassword, replication: f.ctx.secrets.replicationPassword }),
    replicationSlotScript(),
    ...syncPolicyActions(f),
    // NFS export (nfs-ganesha; rpcbind for the v3 side the libnfs checks use).
    ...NFS_CONFLICTS.map(masked),
    started("rpcbind"),
    ...(volumes.length ? [] : [ganeshaDropIn]),
    ganesha,
    started("nfs-ganesha", [ganesha.file.path, ganeshaDropIn.file.path]),
    // Redis broker.
    redisDropIn,
    redis,
    started("redis-server", [redis.file.path, redisDropIn.file.path]),
    // Share replication to the standby.
    shareSyncKeyScript(PATHS.shareSyncPub),
    lsyncd,
    ...(volumes.length ? [] : [syncUnitFile]),
    started(SHARE_SYNC_UNIT, pathsOf([lsyncd]).concat(unitPath(syncUnit.name))),
    // The certificate's renewal agent (acts here while this machine is the primary).
    ...acmeAgentActions(f),
    ...healthAgentActions(f),
  ];
}

export function parentChecks(node: InventoryNode, _f: ClusterFacts): Check[] {
  return [
    postgresAcceptingCheck(node.privateAddress),
    slotExistsCheck(),
    ganeshaListeningCheck(`nfs://${node.privateAddress}${PATHS.share}`),
    redisPingCheck(node.privateAddress),
  ];
}
