/**
 * The standby becomes the primary: pg_promote, then the services a primary runs (no synchronous standby
 * until a rejoin, the standby's slot, Redis as the master, the NFS export); and the end of that "no
 * synchronous standby" override once a standby streams again.
 */
import type { Argv } from "../../../roles/shell";
import { fixed, PSQL } from "./program";

/** Promote the local standby (pg_promote, checked: it returns false on timeout). Prints `promoted=1` or `already=1`. */
const PROMOTE = `set -euo pipefail
${PSQL}
if [ "$(q 'select pg_is_in_recovery()')" = f ]; then echo already=1; exit 0; fi
r=$(q 'select pg_promote(true, 60)')
if [ "$r" != t ]; then echo "pg_promote did not finish within 60 s (returned $r)" >&2; exit 1; fi
if [ "$(q 'select pg_is_in_recovery()')" != f ]; then echo "still in recovery after pg_promote" >&2; exit 1; fi
echo promoted=1`;

export function promote(): Argv {
  return fixed(PROMOTE);
}

/**
 * Make the promoted node serve what the primary serves:
 * - commits stop waiting for a synchronous standby (there is none until a rejoin): a conf.d file that sorts
 *   after the bootstrap's, so a bootstrap before the rejoin keeps writes flowing ($1 = that file);
 * - the standby's replication slot ($2) exists, so a rejoined standby finds its WAL;
 * - Redis ($3 = redis.conf, $4 = port) is a primary, and its config file no longer says replicaof, so a
 *   restart keeps it one (the lines the roles render for a replica, and only those, go);
 * - the NFS export runs (rpcbind + nfs-ganesha).
 * Prints `changed=<what>` lines.
 */
const NEW_PRIMARY_SERVICES = `set -euo pipefail
${PSQL}
override=$1; slot=$2; redis_conf=$3; redis_port=$4
want="# django-ha failover: no synchronous standby until \\\`npm run failover -- rejoin\\\` (removed by it).
synchronous_standby_names = ''"
if [ "$(cat "$override" 2>/dev/null)" != "$want" ]; then
  printf '%s\\n' "$want" > "$override"
  chown postgres:postgres "$override"
  chmod 0644 "$override"
  echo changed=synchronous_standby_names
fi
q 'select pg_reload_conf()' >/dev/null
for _ in $(seq 50); do [ -z "$(q 'show synchronous_standby_names')" ] && break; sleep 0.1; done
if [ -n "$(q 'show synchronous_standby_names')" ]; then
  # An ALTER SYSTEM value (postgresql.auto.conf) wins over conf.d: override it there too.
  q "ALTER SYSTEM SET synchronous_standby_names = ''" >/dev/null
  q 'select pg_reload_conf()' >/dev/null
  echo changed=synchronous_standby_names-auto
fi
if [ -z "$(q "select 1 from pg_replication_slots where slot_name = '$slot'")" ]; then
  q "select pg_create_physical_replication_slot('$slot')" >/dev/null
  echo changed=slot
fi
if grep -Eq '^(replicaof|masterauth|replica-read-only|replica-serve-stale-data) ' "$redis_conf"; then
  tmp=$(mktemp)
  grep -Ev '^(replicaof|masterauth|replica-read-only|replica-serve-stale-data) ' "$redis_conf" > "$tmp"
  cat "$tmp" > "$redis_conf" # in place: owner and mode stay
  rm -f "$tmp"
  echo changed=redis-conf
fi
REDISCLI_AUTH=$(sed -n 's/^requirepass "\\(.*\\)"$/\\1/p' "$redis_conf")
export REDISCLI_AUTH
if ! redis-cli -h 127.0.0.1 -p "$redis_port" info replication | grep -q '^role:master'; then
  redis-cli -h 127.0.0.1 -p "$redis_port" replicaof no one >/dev/null
  echo changed=redis-role
fi
for unit in rpcbind nfs-ganesha; do
  if ! systemctl is-active --quiet "$unit" || ! systemctl is-enabled --quiet "$unit"; then
    systemctl enable --now "$unit" >/dev/null 2>&1
    echo "changed=$unit"
  fi
done`;

export function newPrimaryServices(o: { overrideFile: string; slot: string; redisConf: string; redisPort: number }): Argv {
  return fixed(NEW_PRIMARY_SERVICES, o.overrideFile, o.slot, o.redisConf, String(o.redisPort));
}

/** Remove the failover's "no synchronous standby" override ($1) once a standby streams again; reload. */
const RESTORE_SYNC = `set -euo pipefail
${PSQL}
if [ -e "$1" ]; then rm -f "$1"; q 'select pg_reload_conf()' >/dev/null; echo changed=synchronous_standby_names; fi
echo "sync_names=$(q 'show synchronous_standby_names')"`;

export function restoreSync(overrideFile: string): Argv {
  return fixed(RESTORE_SYNC, overrideFile);
}
