/**
 * What the rejoin (ops/failover/rejoin.ts) runs on the two database machines: observe the primary and the node,
 * prepare the primary (slot, pg_rewind's read rights), turn the node into a standby by the chosen method, wait for
 * streaming, restore synchronous replication; and the key=value lines they print.
 */
import { DB, PATHS, PORTS } from "../../../roles/context";
import { BOOT_GUARD_SCRIPT, GUARD_SIGNAL_MARK } from "../../../roles/guard";
import { POSTGRES_UNIT } from "../../../roles/db";
import type { Argv } from "../../../roles/shell";
import { PSQL } from "./program";

/** Like fixed(), with the rejoin's name as $0. */
const FIXED = (program: string, ...args: string[]): Argv => ["bash", "-c", program, "django-ha-rejoin", ...args];

/** On the primary: recovery, timeline, its history file. $1 = data dir. key=value lines, history base64. */
const OBSERVE_PRIMARY = `set -euo pipefail
${PSQL}
echo "recovery=$(q 'select pg_is_in_recovery()')"
tl=$(q 'select timeline_id from pg_control_checkpoint()')
for h in "$1"/pg_wal/*.history; do [ -e "$h" ] || continue; n=$((16#$(basename "$h" .history))); if [ "$n" -gt "$tl" ]; then tl=$n; fi; done
echo "timeline=$tl"
h=$(printf '%s/pg_wal/%08X.history' "$1" "$tl")
if [ -f "$h" ]; then echo "history=$(base64 -w0 < "$h")"; else echo "history="; fi`;

export function observePrimary(): Argv {
  return FIXED(OBSERVE_PRIMARY, PATHS.pgData);
}

/**
 * On the node to rejoin: streaming from the primary?, its timeline, its end of WAL; with a fork LSN ($3), the
 * number of commit records between it and the end (pg_waldump over its own pg_wal).
 * $1 = data dir, $2 = primary address, $3 = fork LSN or "", $4 = pg bin dir.
 */
const OBSERVE_NODE = `set -euo pipefail
${PSQL}
data=$1; primary=$2; fork=$3; bin=$4
streaming=$(q "select count(*) from pg_stat_wal_receiver where status = 'streaming' and sender_host = '$primary'" 2>/dev/null || echo 0)
echo "streaming=$streaming"
tl=$(LC_ALL=C "$bin/pg_controldata" "$data" | sed -n "s/^Latest checkpoint's TimeLineID: *//p")
for h in "$data"/pg_wal/*.history; do [ -e "$h" ] || continue; n=$((16#$(basename "$h" .history))); if [ "$n" -gt "$tl" ]; then tl=$n; fi; done
echo "timeline=$tl"
if [ "$(q 'select pg_is_in_recovery()' 2>/dev/null || echo down)" = t ]; then
  end=$(q 'select pg_last_wal_replay_lsn()')
else
  end=$(LC_ALL=C "$bin/pg_controldata" "$data" | sed -n "s/^Latest checkpoint location: *//p")
fi
echo "end=$end"
if [ -n "$fork" ]; then
  commits=$("$bin/pg_waldump" -p "$data/pg_wal" -t "$tl" -s "$fork" 2>/dev/null | grep -c 'desc: COMMIT' || true)
  echo "commits=$commits"
fi`;

export function observeNode(primaryAddress: string, forkLsn?: string): Argv {
  return FIXED(OBSERVE_NODE, PATHS.pgData, primaryAddress, forkLsn ?? "", PATHS.pgBin);
}

/**
 * On the node: become a standby of the primary by the chosen method, then start. $1 = method, $2 = data dir,
 * $3 = conninfo (replication), $4 = slot, $5 = pg bin, $6 = unit, $7 = guard mark, $8 = conninfo for pg_rewind's source,
 * $9 = the boot guard's script.
 * The old data directory is never deleted: a base backup keeps it as <data>.before-rejoin-<time>.
 */
const APPLY = `set -euo pipefail
method=$1; data=$2; conninfo=$3; slot=$4; bin=$5; unit=$6; mark=$7; source=$8; guard=$9
if grep -qx "$mark" "$data/standby.signal" 2>/dev/null; then echo "fenced by its boot guard: the fence ends with this rejoin"; fi
systemctl stop "$unit"
case "$method" in
  follow) ;;
  rewind)
    if ! runuser -u postgres -- "$bin/pg_rewind" --target-pgdata="$data" --source-server="$source" --progress 2>&1; then
      echo "pg_rewind failed: falling back to a fresh base backup" >&2
      method=basebackup
    fi
    ;;
  basebackup) ;;
  *) echo "unknown method $method" >&2; exit 2 ;;
esac
if [ "$method" = basebackup ]; then
  new="$data.rejoin-new"
  rm -rf "$new"
  install -d -o postgres -g postgres -m 0700 "$new"
  runuser -u postgres -- "$bin/pg_basebackup" -D "$new" -S "$slot" -X stream -c fast -w -d "$conninfo"
  mv "$data" "$data.before-rejoin-$(date -u +%Y%m%dT%H%M%SZ)"
  mv "$new" "$data"
fi
auto="$data/postgresql.auto.conf"
tmp=$(mktemp)
grep -Ev '^(primary_conninfo|primary_slot_name) ' "$auto" > "$tmp" 2>/dev/null || true
printf "primary_conninfo = '%s'\\nprimary_slot_name = '%s'\\n" "$conninfo" "$slot" >> "$tmp"
install -o postgres -g postgres -m 0600 "$tmp" "$auto"
rm -f "$tmp"
# Replication's own (empty) standby.signal: the boot guard's fence ($mark) ends here.
install -o postgres -g postgres -m 0600 /dev/null "$data/standby.signal"
# The guard's record follows (a standby needs no peer to decide): status and the next boot say "standby".
if [ -x "$guard" ]; then "$guard" decide 2>/dev/null || true; fi
systemctl start "$unit"
echo "method=$method"`;

/** How a node becomes a standby: follow the new timeline, pg_rewind first, or a fresh base backup. */
export type RejoinApplyMethod = "follow" | "rewind" | "basebackup";

export function applyRejoin(method: RejoinApplyMethod, primaryAddress: string): Argv {
  const conninfo = `host=${primaryAddress} port=${PORTS.postgres} user=${DB.replicationUser} application_name=${DB.applicationName}`;
  const source = `host=${primaryAddress} port=${PORTS.postgres} user=${DB.replicationUser} dbname=postgres`;
  return FIXED(APPLY, method, PATHS.pgData, conninfo, DB.slot, PATHS.pgBin, POSTGRES_UNIT, GUARD_SIGNAL_MARK, source, BOOT_GUARD_SCRIPT);
}

/**
 * On the primary: the standby's slot exists, and the replication user may run what pg_rewind reads from its
 * source (instead of a superuser over the network). $1 = slot, $2 = replication user.
 */
const PREPARE_PRIMARY = `set -euo pipefail
${PSQL}
if [ -z "$(q "select 1 from pg_replication_slots where slot_name = '$1'")" ]; then q "select pg_create_physical_replication_slot('$1')" >/dev/null; echo changed=slot; fi
for f in 'pg_ls_dir(text, boolean, boolean)' 'pg_stat_file(text, boolean)' 'pg_read_binary_file(text)' 'pg_read_binary_file(text, bigint, bigint, boolean)'; do
  q "GRANT EXECUTE ON FUNCTION pg_catalog.$f TO $2" >/dev/null
done`;

export function preparePrimary(): Argv {
  return FIXED(PREPARE_PRIMARY, DB.slot, DB.replicationUser);
}

/** On the node: wait until it streams from the primary ($1), up to $2 seconds. */
const WAIT_STREAMING = `set -euo pipefail
${PSQL}
for _ in $(seq 1 "$2"); do
  if [ "$(q "select count(*) from pg_stat_wal_receiver where status = 'streaming' and sender_host = '$1'" 2>/dev/null || echo 0)" = 1 ]; then echo streaming; exit 0; fi
  sleep 1
done
echo "not streaming from $1 after $2 s: see journalctl -u ${POSTGRES_UNIT}" >&2
exit 1`;

export function waitStreaming(primaryAddress: string, seconds: number): Argv {
  return FIXED(WAIT_STREAMING, primaryAddress, String(seconds));
}

/** On the primary: remove the no-standby override ($1) and reload, so commits wait for the standby again. */
const RESTORE_SYNC = `set -euo pipefail
${PSQL}
if [ -n "$1" ] && [ -e "$1" ]; then rm -f "$1"; q 'select pg_reload_conf()' >/dev/null; echo changed=sync; fi
echo "sync_names=$(q 'show synchronous_standby_names')"`;

export function restoreSynchronous(overrideFile: string | undefined): Argv {
  return FIXED(RESTORE_SYNC, overrideFile ?? "");
}

/** key=value lines → record. Pure. */
export function keyValues(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split("\n")
      .filter((l) => /^[a-z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}
