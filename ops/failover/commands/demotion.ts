/**
 * The old primary steps down in a planned switchover: a clean stop that has sent all its WAL, then the
 * configuration that makes it a standby of the new primary without a new base backup.
 */
import type { Argv } from "../../../roles/shell";
import { fixed } from "./program";

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
  return fixed(STOP_OLD_PRIMARY, o.unit, o.pgBin, o.pgData);
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
  return fixed(AS_STANDBY, o.pgData, o.conninfo, o.slot);
}
