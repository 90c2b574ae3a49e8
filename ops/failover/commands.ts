/**
 * What the failover runs on the nodes: fixed bash programs that take their data as positional arguments
 * ("$1", …), built as argv arrays (quoted in one place, ops/ssh), plus parsers for what they print. Nothing
 * here runs anything. Every program is idempotent: a re-run after an interruption finds the work done.
 */
import * as net from "node:net";
import type { Argv } from "../../roles/shell";

const FIXED = (program: string, ...args: string[]): Argv => ["bash", "-c", program, "django-ha-failover", ...args];

/** psql as postgres on the node itself (peer auth), never waiting for a synchronous standby. */
const PSQL = `q() { PGOPTIONS='-c synchronous_commit=local' runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }`;

// ------------------------------------------------------------------------------------------ database status

/**
 * One line `key=value` per fact about the local PostgreSQL; `pg=down` when it does not answer.
 * `replica=` lines (on a primary): application_name,state,sync_state,replay_lsn.
 */
const PG_STATUS = `set -uo pipefail
if ! out=$(PGOPTIONS='-c synchronous_commit=local' timeout 5 runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 2>&1 <<'SQL'
select 'recovery=' || pg_is_in_recovery()::text;
select 'receive_lsn=' || coalesce(pg_last_wal_receive_lsn()::text, '');
select 'replay_lsn=' || coalesce(pg_last_wal_replay_lsn()::text, '');
select 'current_lsn=' || case when pg_is_in_recovery() then '' else pg_current_wal_lsn()::text end;
select 'receiver=' || coalesce((select status from pg_stat_wal_receiver), 'none');
select 'receipt_age=' || coalesce((select round(extract(epoch from now() - last_msg_receipt_time))::text from pg_stat_wal_receiver), '');
select 'sync_names=' || current_setting('synchronous_standby_names');
select 'read_only=' || current_setting('default_transaction_read_only');
select 'timeline=' || coalesce(case when pg_is_in_recovery() then (select received_tli from pg_stat_wal_receiver) else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end, (select timeline_id from pg_control_checkpoint()))::text;
select 'replica=' || application_name || ',' || coalesce(state, '') || ',' || coalesce(sync_state, '') || ',' || coalesce(replay_lsn::text, '') from pg_stat_replication;
SQL
); then
  echo pg=down
  printf 'pg_error=%s\\n' "$(printf '%s' "$out" | tr '\\n' ' ' | cut -c1-300)"
  exit 0
fi
echo pg=up
printf '%s\\n' "$out"`;

export function pgStatus(): Argv {
  return FIXED(PG_STATUS);
}

export interface PgStatus {
  up: boolean;
  error?: string;
  /** In recovery = a standby. */
  recovery?: boolean;
  receiveLsn?: string;
  replayLsn?: string;
  currentLsn?: string;
  /** pg_stat_wal_receiver.status, or "none". */
  receiver?: string;
  /** Seconds since the standby last heard from its primary. */
  receiptAgeSeconds?: number;
  syncNames?: string;
  readOnly?: boolean;
  timeline?: number;
  replicas: { name: string; state: string; syncState: string; replayLsn: string }[];
}

/** Parse PG_STATUS output. Pure. */
export function parsePgStatus(stdout: string): PgStatus {
  const s: PgStatus = { up: false, replicas: [] };
  for (const line of stdout.split("\n")) {
    const i = line.indexOf("=");
    if (i < 0) continue;
    const key = line.slice(0, i);
    const value = line.slice(i + 1);
    switch (key) {
      case "pg":
        s.up = value === "up";
        break;
      case "pg_error":
        s.error = value.trim();
        break;
      case "recovery":
        s.recovery = value === "true";
        break;
      case "receive_lsn":
        s.receiveLsn = value || undefined;
        break;
      case "replay_lsn":
        s.replayLsn = value || undefined;
        break;
      case "current_lsn":
        s.currentLsn = value || undefined;
        break;
      case "receiver":
        s.receiver = value;
        break;
      case "receipt_age":
        s.receiptAgeSeconds = value === "" ? undefined : Number(value);
        break;
      case "sync_names":
        s.syncNames = value;
        break;
      case "read_only":
        s.readOnly = value === "on";
        break;
      case "timeline":
        s.timeline = Number(value);
        break;
      case "replica": {
        const [name, state, syncState, replayLsn] = value.split(",");
        s.replicas.push({ name, state, syncState, replayLsn });
        break;
      }
      default:
        break;
    }
  }
  return s;
}

/** A PostgreSQL LSN ("16/B374D848") as a number of bytes, for comparisons. Pure. */
export function lsnBytes(lsn: string): bigint {
  const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(lsn.trim());
  if (!m) throw new Error(`not a PostgreSQL LSN: ${JSON.stringify(lsn)}`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

/**
 * Does a PostgreSQL server answer at $1:$2 within $3 seconds, as seen from this node: python3 (on every
 * node) sends the protocol's SSLRequest and reads the one-byte answer, as pg_isready's first step does.
 * Prints `peer_pg=answers` or `peer_pg=no answer (<why>)`.
 */
const PEER_PG = `python3 - "$1" "$2" "$3" <<'PY'
import socket, struct, sys
host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
try:
    s = socket.create_connection((host, port), timeout=timeout)
    s.settimeout(timeout)
    s.sendall(struct.pack("!ii", 8, 80877103))
    answer = s.recv(1)
    print("peer_pg=answers" if answer in (b"S", b"N") else f"peer_pg=no answer (unexpected {answer!r})")
except OSError as e:
    print(f"peer_pg=no answer ({e.__class__.__name__}: {e})")
PY`;

export function peerPostgres(address: string, port: number, timeoutSeconds = 2): Argv {
  return FIXED(PEER_PG, address, String(port), String(timeoutSeconds));
}

/** "answers", or "no answer (why)". */
export function parsePeerPostgres(stdout: string): { answers: boolean; detail: string } {
  const m = /^peer_pg=(.*)$/m.exec(stdout);
  if (!m) throw new Error(`unexpected output of the PostgreSQL probe: ${stdout.slice(0, 200)}`);
  return { answers: m[1] === "answers", detail: m[1] };
}

// --------------------------------------------------------------------------------------------- promotion

/** Promote the local standby (pg_promote, checked: it returns false on timeout). Prints `promoted=1` or `already=1`. */
const PROMOTE = `set -euo pipefail
${PSQL}
if [ "$(q 'select pg_is_in_recovery()')" = f ]; then echo already=1; exit 0; fi
r=$(q 'select pg_promote(true, 60)')
if [ "$r" != t ]; then echo "pg_promote did not finish within 60 s (returned $r)" >&2; exit 1; fi
if [ "$(q 'select pg_is_in_recovery()')" != f ]; then echo "still in recovery after pg_promote" >&2; exit 1; fi
echo promoted=1`;

export function promote(): Argv {
  return FIXED(PROMOTE);
}

// ------------------------------------------------------------------------------- the new primary's services

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
  return FIXED(NEW_PRIMARY_SERVICES, o.overrideFile, o.slot, o.redisConf, String(o.redisPort));
}

/** What a program reported as changed (`changed=<what>` lines). Pure. */
export function changesOf(stdout: string): string[] {
  return stdout
    .split("\n")
    .map((l) => /^changed=(.+)$/.exec(l)?.[1])
    .filter((x): x is string => !!x);
}

// ------------------------------------------------------------------------------------------ reconnecting

/**
 * The app's DB_HOSTS and DATABASE_URL's host list, new primary first ($env_file, $db_hosts): libpq tries the hosts
 * in order with a 3 s connect timeout, so with the old primary first every new connection would wait on a dead
 * address until the next bootstrap. The lines written are the ones the roles render for the new inventory
 * (roles/files/appenv.ts: in DATABASE_URL the hosts are what lies between its only '@' and the next '/', each
 * with DB_PORT, IPv6 in brackets); mode and owner are kept.
 */
const APP_DB_HOSTS = `if [ -f "$env_file" ]; then
  port=$(sed -n 's/^DB_PORT=//p' "$env_file"); port=\${port:-5432}
  url_hosts=""
  IFS=, read -ra hosts <<<"$db_hosts"
  for h in "\${hosts[@]}"; do case $h in *:*) h="[$h]" ;; esac; url_hosts+="\${url_hosts:+,}$h:$port"; done
  url_line=$(grep '^DATABASE_URL=' "$env_file" || true)
  if ! grep -qxF "DB_HOSTS=$db_hosts" "$env_file" || { [ -n "$url_line" ] && [[ $url_line != *"@$url_hosts/"* ]]; }; then
    tmp=$(mktemp "$env_file.XXXXXX")
    chmod --reference="$env_file" "$tmp"; chown --reference="$env_file" "$tmp"
    sed -e "s|^DB_HOSTS=.*|DB_HOSTS=$db_hosts|" -e "s|^\\(DATABASE_URL=[^@]*@\\)[^/]*|\\1$url_hosts|" "$env_file" > "$tmp"
    mv -f "$tmp" "$env_file"
    echo changed=db-hosts
  fi
fi`;

/** DB_HOSTS as renderAppEnv writes it: addresses only (they travel into a sed expression). */
function dbHostsValue(dbHosts: string[]): string {
  for (const h of dbHosts)
    if (net.isIP(h) === 0) throw new Error(`DB host ${JSON.stringify(h)} is not an IP address: the inventory's privateAddress must be one`);
  return dbHosts.join(",");
}

/**
 * Make a child's app use the new primary: a mount of the share from the old server is detached (lazily; the
 * automount mounts it again from primary.<cluster>.internal on the next access) and uWSGI chain-reloads
 * ($1 = its unit): workers are replaced one by one, each opens new connections; requests keep being served.
 */
const RECONNECT_CHILD = `set -euo pipefail
share=$1; unit=$2; env_file=$3; db_hosts=$4
${APP_DB_HOSTS}
if findmnt -t nfs,nfs4 -M "$share" >/dev/null 2>&1; then umount -f -l "$share" && echo changed=share-remount; fi
if systemctl is-active --quiet "$unit"; then systemctl reload "$unit" && echo changed=uwsgi-chain-reload; fi`;

export function reconnectChild(share: string, uwsgiUnit: string, appEnv: string, dbHosts: string[]): Argv {
  return FIXED(RECONNECT_CHILD, share, uwsgiUnit, appEnv, dbHostsValue(dbHosts));
}

/**
 * The worker: the share as on a child, then a warm restart of Celery without waiting for it ($2 = unit):
 * the running job finishes first (SIGTERM to the main process), queued jobs stay in the broker, which is the
 * promoted Redis replica; the new process connects to primary.<cluster>.internal.
 */
const RECONNECT_WORKER = `set -euo pipefail
share=$1; unit=$2; env_file=$3; db_hosts=$4
${APP_DB_HOSTS}
if findmnt -t nfs,nfs4 -M "$share" >/dev/null 2>&1; then umount -f -l "$share" && echo changed=share-remount; fi
if systemctl is-active --quiet "$unit"; then systemctl restart --no-block "$unit" && echo changed=celery-warm-restart; fi`;

export function reconnectWorker(share: string, celeryUnit: string, appEnv: string, dbHosts: string[]): Argv {
  return FIXED(RECONNECT_WORKER, share, celeryUnit, appEnv, dbHostsValue(dbHosts));
}

/** Run a rendered script (a roles/ ScriptAction's text) that prints its changed marker. */
export function runRendered(script: string): Argv {
  return ["bash", "-c", script];
}

// ------------------------------------------------------------------------------------- planned switchover

/**
 * Stop the old primary's PostgreSQL cleanly ($1 = unit, $2 = bin dir, $3 = data dir): a fast shutdown ends
 * every session and sends all WAL, up to its shutdown checkpoint, to the standby before it exits. Prints
 * `checkpoint_lsn=<lsn>` (from pg_controldata), the position the standby must have received. Idempotent.
 */
const STOP_OLD_PRIMARY = `set -euo pipefail
unit=$1; bin=$2; data=$3
systemctl stop "$unit"
state=$("$bin/pg_controldata" "$data" | sed -n 's/^Database cluster state: *//p')
if [ "$state" != "shut down" ]; then echo "PostgreSQL stopped, but its cluster state is \\"$state\\", not a clean shutdown of a primary" >&2; exit 1; fi
echo "checkpoint_lsn=$("$bin/pg_controldata" "$data" | sed -n 's/^Latest checkpoint location: *//p')"`;

export function stopOldPrimary(o: { unit: string; pgBin: string; pgData: string }): Argv {
  return FIXED(STOP_OLD_PRIMARY, o.unit, o.pgBin, o.pgData);
}

/** A `key=value` line of a program's output. Pure. */
export function valueOf(stdout: string, key: string): string | undefined {
  return new RegExp(`^${key}=(.*)$`, "m").exec(stdout)?.[1];
}

/**
 * Redis on the old primary ($1 = redis.conf, $2 = port): pause client writes for $3 ms (queued jobs then
 * stay where they are while the replica catches up) and print `offset=<master_repl_offset>`.
 */
const REDIS_PAUSE = `set -euo pipefail
REDISCLI_AUTH=$(sed -n 's/^requirepass "\\(.*\\)"$/\\1/p' "$1")
export REDISCLI_AUTH
redis-cli -h 127.0.0.1 -p "$2" client pause "$3" write >/dev/null
sleep 0.2
echo "offset=$(redis-cli -h 127.0.0.1 -p "$2" info replication | tr -d '\\r' | sed -n 's/^master_repl_offset://p')"`;

export function redisPause(redisConf: string, port: number, ms: number): Argv {
  return FIXED(REDIS_PAUSE, redisConf, String(port), String(ms));
}

/** The replica's processed replication offset (`offset=<n>`), on the standby ($1 = redis.conf, $2 = port). */
const REDIS_REPLICA_OFFSET = `set -euo pipefail
REDISCLI_AUTH=$(sed -n 's/^requirepass "\\(.*\\)"$/\\1/p' "$1")
export REDISCLI_AUTH
info=$(redis-cli -h 127.0.0.1 -p "$2" info replication | tr -d '\\r')
echo "offset=$(printf '%s\\n' "$info" | sed -n 's/^slave_repl_offset://p')"
echo "link=$(printf '%s\\n' "$info" | sed -n 's/^master_link_status://p')"`;

export function redisReplicaOffset(redisConf: string, port: number): Argv {
  return FIXED(REDIS_REPLICA_OFFSET, redisConf, String(port));
}

/**
 * The old primary hands the share over: its NFS export stops, its share replication stops for good (the new
 * primary replicates the other way once the roles say so), and one last rsync — the same transfer as lsyncd,
 * key and rrsync-rooted target — copies what lsyncd had not sent yet.
 * $1 = share dir, $2 = target (root@addr), $3 = ssh port, $4 = key, $5 = sync unit.
 */
const SHARE_HANDOVER = `set -euo pipefail
share=$1; target=$2; port=$3; key=$4; unit=$5
systemctl disable --now nfs-ganesha >/dev/null 2>&1 || true
systemctl disable --now "$unit" >/dev/null 2>&1 || true
rsync -a -H --delete --numeric-ids --omit-dir-times \\
  -e "/usr/bin/ssh -p $port -i $key -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=$key.known_hosts" \\
  "$share/" "$target:/"
echo changed=share-final-sync`;

export function shareHandover(o: { share: string; target: string; sshPort: number; key: string; syncUnit: string }): Argv {
  return FIXED(SHARE_HANDOVER, o.share, o.target, String(o.sshPort), o.key, o.syncUnit);
}

/**
 * The cleanly stopped old primary becomes a standby of the new one without a new base backup (it stopped
 * with everything sent): standby.signal, primary_conninfo and the slot in postgresql.auto.conf (what
 * pg_basebackup -R writes). The bootstrap then renders its standby role and starts it.
 * $1 = data dir, $2 = conninfo, $3 = slot.
 */
const AS_STANDBY = `set -euo pipefail
data=$1; conninfo=$2; slot=$3
auto="$data/postgresql.auto.conf"
tmp=$(mktemp)
grep -Ev '^(primary_conninfo|primary_slot_name|default_transaction_read_only) ' "$auto" > "$tmp" || true
printf "primary_conninfo = '%s'\\nprimary_slot_name = '%s'\\n" "$conninfo" "$slot" >> "$tmp"
if ! cmp -s "$tmp" "$auto"; then cat "$tmp" > "$auto"; echo changed=primary_conninfo; fi
rm -f "$tmp"
if [ ! -f "$data/standby.signal" ]; then install -o postgres -g postgres -m 0600 /dev/null "$data/standby.signal"; echo changed=standby.signal; fi`;

export function asStandby(o: { pgData: string; conninfo: string; slot: string }): Argv {
  return FIXED(AS_STANDBY, o.pgData, o.conninfo, o.slot);
}

/** Remove the failover's "no synchronous standby" override ($1) once a standby streams again; reload. */
const RESTORE_SYNC = `set -euo pipefail
${PSQL}
if [ -e "$1" ]; then rm -f "$1"; q 'select pg_reload_conf()' >/dev/null; echo changed=synchronous_standby_names; fi
echo "sync_names=$(q 'show synchronous_standby_names')"`;

export function restoreSync(overrideFile: string): Argv {
  return FIXED(RESTORE_SYNC, overrideFile);
}
