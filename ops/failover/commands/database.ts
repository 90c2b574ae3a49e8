/**
 * The database's state, as the failover reads it: the local PostgreSQL's status (role, WAL positions, the
 * receiver, the replicas) and whether a peer's PostgreSQL answers; LSNs as numbers for comparisons.
 */
import type { Argv } from "../../../roles/shell";
import { fixed } from "./program";

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
  return fixed(PG_STATUS);
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

/** Parse pgStatus()'s output. Pure. */
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
  return fixed(PEER_PG, address, String(port), String(timeoutSeconds));
}

/** "answers", or "no answer (why)". */
export function parsePeerPostgres(stdout: string): { answers: boolean; detail: string } {
  const m = /^peer_pg=(.*)$/m.exec(stdout);
  if (!m) throw new Error(`unexpected output of the PostgreSQL probe: ${stdout.slice(0, 200)}`);
  return { answers: m[1] === "answers", detail: m[1] };
}
