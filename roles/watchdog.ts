/**
 * degrade-to-async: a timer on the primary runs this script every few seconds. When the standby has not been
 * streaming for `graceSeconds`, it empties synchronous_standby_names (ALTER SYSTEM) and logs at crit; once the
 * standby streams and has caught up again, it removes the override so commits are synchronous again.
 */
import { DB } from "./context";

export interface SyncWatchdog {
  graceSeconds: number;
  /** Catch-up threshold before synchronous replication is restored (bytes of WAL not yet flushed on the standby). */
  restoreLagBytes: number;
  stateFile: string;
}

export function renderSyncWatchdog(w: SyncWatchdog): string {
  return `#!/usr/bin/env bash
# django-ha: degrade-to-async watchdog (see README "Synchronous replication").
set -euo pipefail
export PGOPTIONS='-c synchronous_commit=local'
q() { runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
# To the journal with a priority when syslog is there, else to stderr (the unit's journal anyway).
say() { if [ -S /dev/log ]; then logger -s -p "daemon.$1" -t django-ha-sync "$2"; else echo "django-ha-sync: $2" >&2; fi; }
state=${w.stateFile}

# Only a primary decides; a standby (or a stopped server) has nothing to do.
[ "$(q 'select pg_is_in_recovery()' 2>/dev/null || echo none)" = f ] || exit 0

current=$(q 'show synchronous_standby_names')
caught_up=$(q "select count(*) from pg_stat_replication where application_name = '${DB.applicationName}' and state = 'streaming' and flush_lsn is not null and pg_wal_lsn_diff(sent_lsn, flush_lsn) < ${w.restoreLagBytes}")

if [ "$caught_up" -gt 0 ]; then
  rm -f "$state"
  if [ -z "$current" ]; then
    q 'ALTER SYSTEM RESET synchronous_standby_names' >/dev/null
    q 'select pg_reload_conf()' >/dev/null
    say warning "standby '${DB.applicationName}' is streaming and caught up: synchronous replication RESTORED"
  fi
  exit 0
fi

# Already asynchronous (degraded earlier): keep saying so.
if [ -z "$current" ]; then
  say warning "standby '${DB.applicationName}' not streaming: replication is ASYNCHRONOUS, a failover now can lose commits"
  exit 0
fi

now=$(date +%s)
if [ ! -f "$state" ]; then
  echo "$now" > "$state"
  exit 0
fi
since=$(cat "$state")
if [ $((now - since)) -ge ${w.graceSeconds} ]; then
  q "ALTER SYSTEM SET synchronous_standby_names = ''" >/dev/null
  q 'select pg_reload_conf()' >/dev/null
  say crit "standby '${DB.applicationName}' not streaming for $((now - since)) s: synchronous replication DROPPED to async (policy degrade-to-async); commits are on one machine only until it is back"
fi
`;
}
