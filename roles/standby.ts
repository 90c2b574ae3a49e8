/** standby: hot standby of the primary (synchronous), Redis replica, receives the share replica; its NFS export stays off until failover. */
import { ClusterFacts, PATHS } from "./context";
import { started, stopped, masked } from "./actions";
import { redisReplicaCheck, standbyStreamingCheck } from "./checks";
import { ganeshaConfFile, networkOnlineDropIn, NFS_CONFLICTS, pgHbaFile, pgPassFile, POSTGRES_UNIT, postgresConfFile, redisConfFile } from "./db";
import { baseBackupScript, shareSyncAuthorizeScript } from "./scripts";
import { shareLayoutScript } from "./share";
import { PORTS } from "./context";
import type { Action, Check } from "./types";
import type { InventoryNode } from "../spec";

export function standbyActions(node: InventoryNode, f: ClusterFacts): Action[] {
  const pgConf = postgresConfFile(node, f);
  const hba = pgHbaFile(f);
  const redis = redisConfFile(node, f);
  // ops daemon-reloads when a unit file or drop-in changed; the restart makes the new ordering hold for this run too.
  const pgDropIn = networkOnlineDropIn("postgresql@.service");
  const redisDropIn = networkOnlineDropIn("redis-server.service");
  return [
    shareLayoutScript(),
    shareSyncAuthorizeScript(f.parent.privateAddress, `nfs://${f.parent.privateAddress}${PATHS.shareSyncPub}`, PATHS.share),
    // Ready to export after a failover, off until then.
    ...NFS_CONFLICTS.map(masked),
    networkOnlineDropIn("nfs-ganesha.service", [["RequiresMountsFor", PATHS.share]]),
    ganeshaConfFile(f),
    stopped("nfs-ganesha"),
    // PostgreSQL hot standby.
    pgDropIn,
    pgConf,
    hba,
    pgPassFile(f),
    baseBackupScript(f.parent.privateAddress, PORTS.postgres),
    started(POSTGRES_UNIT, [pgConf.file.path, pgDropIn.file.path]),
    started(POSTGRES_UNIT, [hba.file.path], { reload: true }),
    // Redis replica.
    redisDropIn,
    redis,
    started("redis-server", [redis.file.path, redisDropIn.file.path]),
  ];
}

export function standbyChecks(_node: InventoryNode, f: ClusterFacts): Check[] {
  return [standbyStreamingCheck(f.parent.privateAddress), redisReplicaCheck()];
}
