/** The database pair (parent and standby): PostgreSQL, nfs-ganesha, Redis. Same files on both where possible, so a failover only flips roles. */
import { APP_USER, ClusterFacts, DB, PATHS, PORTS } from "./context";
import { file, FileAction } from "./actions";
import { GaneshaConfig, renderGaneshaConf } from "./files/ganesha";
import { HbaRule, renderPgHba, renderPostgresConf } from "./files/postgres";
import { renderRedisConf } from "./files/redis";
import { renderUnit, UnitEntry } from "./files/systemd";
import type { InventoryNode, SyncPolicy } from "../model";
import { POSTGRES_MAJOR } from "../model/debian";

/** WAL a slot may hold before PostgreSQL invalidates it (the standby then needs a new base backup). */
export const MAX_SLOT_WAL_KEEP_SIZE = "8GB";
export const SYNC_STANDBY_NAMES = `FIRST 1 (${DB.applicationName})`;
export const GANESHA_CONF = "/etc/ganesha/ganesha.conf";
export const REDIS_CONF = "/etc/redis/redis.conf";

/** The primary's synchronous_standby_names: the same for both policies; degrade-to-async overrides it at run time. */
export function synchronousStandbyNames(_policy: SyncPolicy): string {
  return SYNC_STANDBY_NAMES;
}

export function postgresConfFile(node: InventoryNode, f: ClusterFacts): FileAction {
  const isPrimary = node.name === f.parent.name;
  return file(
    PATHS.pgConf,
    renderPostgresConf({
      listenAddresses: ["localhost", node.privateAddress],
      port: PORTS.postgres,
      synchronousStandbyNames: isPrimary ? synchronousStandbyNames(f.ctx.inventory.syncReplication) : "",
      maxSlotWalKeepSize: MAX_SLOT_WAL_KEEP_SIZE,
    }),
    "0644",
    "postgres",
    "postgres",
  );
}

/** Identical on both database nodes: app user from children and worker, replication (and pg_rewind's source) between the pair. */
export function hbaRules(f: ClusterFacts): HbaRule[] {
  const appClients = [...new Set([...f.children, ...f.workers].map((n) => n.privateAddress))];
  const pair = [...new Set([f.parent.privateAddress, f.standby.privateAddress])];
  return [
    { type: "local", database: "all", user: "postgres", method: "peer" },
    { type: "local", database: "all", user: "all", method: "peer" },
    { type: "host", database: "all", user: "all", address: "127.0.0.1/32", method: "scram-sha-256" },
    { type: "host", database: "all", user: "all", address: "::1/128", method: "scram-sha-256" },
    ...appClients.map((address): HbaRule => ({ type: "host", database: DB.name, user: DB.user, address, method: "scram-sha-256" })),
    ...pair.map((address): HbaRule => ({
      type: "host",
      database: "replication",
      user: DB.replicationUser,
      address,
      method: "scram-sha-256",
    })),
    // pg_rewind's source connection when the old primary rejoins (ops/failover/rejoin.ts): a plain connection.
    ...pair.map((address): HbaRule => ({ type: "host", database: "postgres", user: DB.replicationUser, address, method: "scram-sha-256" })),
  ];
}

export function pgHbaFile(f: ClusterFacts): FileAction {
  return file(PATHS.pgHba, renderPgHba(hbaRules(f)), "0640", "postgres", "postgres");
}

/** .pgpass of the postgres user: the replication password for pg_basebackup and the standby's walreceiver. */
export function pgPassFile(f: ClusterFacts): FileAction {
  const pw = f.ctx.secrets.replicationPassword.replace(/[\\:]/g, (c) => `\\${c}`);
  return file(
    PATHS.pgPass,
    `*:${PORTS.postgres}:replication:${DB.replicationUser}:${pw}\n*:${PORTS.postgres}:*:${DB.replicationUser}:${pw}\n`,
    "0600",
    "postgres",
    "postgres",
  );
}

export function ganeshaConfig(f: ClusterFacts): GaneshaConfig {
  return {
    exportId: 1,
    path: PATHS.share,
    clients: f.memberAddresses,
    anonymousUid: APP_USER.uid,
    anonymousGid: APP_USER.gid,
    mountdPort: PORTS.mountd,
    nfsPort: PORTS.nfs,
  };
}

export function ganeshaConfFile(f: ClusterFacts): FileAction {
  return file(GANESHA_CONF, renderGaneshaConf(ganeshaConfig(f)));
}

export function redisConfFile(node: InventoryNode, f: ClusterFacts): FileAction {
  const isPrimary = node.name === f.parent.name;
  return file(
    REDIS_CONF,
    renderRedisConf({
      bind: ["127.0.0.1", node.privateAddress],
      port: PORTS.redis,
      password: f.ctx.secrets.redisPassword,
      replicaOf: isPrimary ? undefined : { host: f.parent.privateAddress, port: PORTS.redis },
    }),
    "0640",
    "redis",
    "redis",
  );
}

/** Kernel NFS server and rpc-statd must not run beside nfs-ganesha. */
export const NFS_CONFLICTS = ["nfs-server.service", "rpc-statd.service"];
/** Debian's unit of the cluster <major>/main. */
export const POSTGRES_UNIT = `postgresql@${POSTGRES_MAJOR}-main`;

/**
 * Drop-in ordering a Debian unit after network-online.target: PostgreSQL and Redis bind the private
 * address, which must exist when they start at boot; nfs-ganesha also waits for the share's filesystem.
 */
export function networkOnlineDropIn(unit: string, extra: UnitEntry[] = []): FileAction {
  return file(
    `/etc/systemd/system/${unit}.d/django-ha.conf`,
    renderUnit({
      name: `${unit}.d/django-ha.conf`,
      sections: [["Unit", [["Wants", "network-online.target"], ["After", "network-online.target"], ...extra]]],
    }),
  );
}
