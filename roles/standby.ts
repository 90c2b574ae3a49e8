/** standby: hot standby of the primary (synchronous), Redis replica, receives the share replica; its NFS export stays off until failover. */
import { ClusterFacts, PATHS } from "./context";
import { started, stopped, masked } from "./actions";
import { redisReplicaCheck, standbyStreamingCheck } from "./checks";
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
import { baseBackupScript, shareSyncAuthorizeScript } from "./scripts";
import { bootGuardFiles, bootGuardRefreshScript, bootGuardScript } from "./guard";
import { shareLayoutScript } from "./share";
import { acmeAgentActions } from "./acme";
import { healthAgentActions } from "./health";
import { PORTS } from "./context";
import type { Action, Check } from "./types";
import type { InventoryNode } from "../model";
import { dataMountGuard, dataVolumeActions, dataVolumes } from "./volumes";

export function standbyActions(node: InventoryNode, f: ClusterFacts): Action[] {
  const pgConf = postgresConfFile(node, f);
  const hba = pgHbaFile(f);
  const redis = redisConfFile(node, f);
  // ops daemon-reloads when a unit file or drop-in changed; the restart makes the new ordering hold for this run too.
  const volumes = dataVolumes(node);
  const pgDropIn = networkOnlineDropIn("postgresql@.service", volumes.length ? dataMountGuard(volumes, "db") : []);
  const redisDropIn = networkOnlineDropIn("redis-server.service");
  const ganeshaDropIn = networkOnlineDropIn("nfs-ganesha.service", dataMountGuard(volumes, "share"));
  return [
    // Data volumes: the units that keep data there require their mount before the volumes are put in place.
    ...(volumes.length ? [pgDropIn, ganeshaDropIn, ...dataVolumeActions(volumes)] : []),
    shareLayoutScript(),
    shareSyncAuthorizeScript(f.parent.privateAddress, `nfs://${f.parent.privateAddress}${PATHS.shareSyncPub}`, PATHS.share),
    // Ready to export after a failover, off until then.
    ...NFS_CONFLICTS.map(masked),
    ...(volumes.length ? [] : [ganeshaDropIn]),
    ganeshaConfFile(f),
    stopped("nfs-ganesha"),
    // PostgreSQL hot standby.
    ...(volumes.length ? [] : [pgDropIn]),
    pgConf,
    hba,
    pgPassFile(f),
    // The same boot guard as the parent's (roles flip at a failover): a standby starts as one; asks the parent otherwise.
    ...bootGuardFiles(f.parent, dataMountGuard(volumes, "db")),
    bootGuardScript("standby"),
    baseBackupScript(f.parent.privateAddress, PORTS.postgres),
    started(POSTGRES_UNIT, [pgConf.file.path, pgDropIn.file.path]),
    started(POSTGRES_UNIT, [hba.file.path], { reload: true }),
    bootGuardRefreshScript(),
    // Redis replica.
    redisDropIn,
    redis,
    started("redis-server", [redis.file.path, redisDropIn.file.path]),
    // The renewal agent, idle until a failover makes this machine the primary.
    ...acmeAgentActions(f),
    ...healthAgentActions(f),
  ];
}

export function standbyChecks(_node: InventoryNode, f: ClusterFacts): Check[] {
  return [standbyStreamingCheck(f.parent.privateAddress), redisReplicaCheck()];
}
