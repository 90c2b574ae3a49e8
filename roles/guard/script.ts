/** The boot guard's script (roles/guard/index.ts says what the guard is), and the paths it and the runbook share. */
import { DB, PATHS } from "../context";
import { REDIS_CONF, POSTGRES_UNIT } from "../db";
import { shellQuote as q } from "../shell";
import { renderDecisionTable } from "./policy";

export const BOOT_GUARD_SCRIPT = "/usr/local/sbin/django-ha-boot-guard";
export const BOOT_GUARD_UNIT = "django-ha-boot-guard.service";
/** The last decision (key=value lines), kept across boots for status and rejoin. */
export const BOOT_GUARD_STATE = `${PATHS.stateDir}/boot-guard.state`;
/**
 * Written by the failover runbook on the primary it promoted in an emergency (no synchronous standby until the
 * fenced old primary rejoins; the rejoin removes it): the PostgreSQL setting, and the guard's `failedOver` fact.
 */
export const FAILOVER_NO_STANDBY_CONF = `${PATHS.pgConf.replace(/[^/]+$/, "")}zz-django-ha-failover.conf`;
/** The operator's one-shot override (consumed when used). */
export const BOOT_GUARD_OVERRIDE = `${PATHS.stateDir}/boot-guard.override`;
/** Set by the bootstrap's guard step for the run it starts (in /run: a boot never sees it). */
export const BOOT_GUARD_BOOTSTRAP_FLAG = "/run/django-ha-boot-guard.bootstrap";
/** Content of the standby.signal the guard writes (replication's own is empty): how it knows its own fence. */
export const GUARD_SIGNAL_MARK = "django-ha-boot-guard";
/** How long a boot waits for an unreachable peer before failing closed. */
export const BOOT_GUARD_WAIT_SECONDS = 120;
/** Units that may only run on a primary (or, for Redis, as a replica): each asks the gate before it starts (the share sync is parent.ts SHARE_SYNC_UNIT). */
export const GATED_UNITS = ["nfs-ganesha.service", "django-ha-share-sync.service", "redis-server.service"] as const;

export interface BootGuardConfig {
  peerName: string;
  peerAddress: string;
  port: number;
  waitSeconds: number;
}

/** The boot guard script: The usage, and the facts the script works with as shell variables. */
const guardHeader = (c: BootGuardConfig) => {
  const conninfo = `host=${c.peerAddress} port=${c.port} user=${DB.replicationUser} dbname=replication replication=true connect_timeout=3 application_name=django-ha-boot-guard`;
  const gated = GATED_UNITS.map((u) => q(u)).join(" ");
  return `#!/usr/bin/env bash
# django-ha: boot guard of a database node: may this node's PostgreSQL start as the primary? (roles/guard.ts)
#   decide            the unit's step before PostgreSQL starts: gather the facts, decide, fence or lift the fence
#   gate UNIT         ExecCondition of ${GATED_UNITS.join(", ")}: only beside a primary PostgreSQL
#   status            the last decision and why
#   recheck           ask the peer again now (restarts PostgreSQL), then start what a primary runs
#   override          once: treat an unreachable peer as not a primary, then recheck. Only when you know the peer was never promoted.
#   explain FACTS     the decision for a facts key (trigger:local:peer:waited:override:failover)
set -euo pipefail
peer_name=${q(c.peerName)}
peer_address=${q(c.peerAddress)}
peer_label="$peer_name ($peer_address)"
conninfo=${q(conninfo)}
data=${q(PATHS.pgData)}
bin=${q(PATHS.pgBin)}
state=${q(BOOT_GUARD_STATE)}
override=${q(BOOT_GUARD_OVERRIDE)}
failover_conf=${q(FAILOVER_NO_STANDBY_CONF)}
bootstrap_flag=${q(BOOT_GUARD_BOOTSTRAP_FLAG)}
mark=${q(GUARD_SIGNAL_MARK)}
wait_seconds=${c.waitSeconds}
pg_unit=${q(`${POSTGRES_UNIT}.service`)}
gated=(${gated})
local_tl='?'
peer_tl='?'
peer_error=

`;
};

/** The boot guard script: say, the decision table (rendered from decide), and the functions that gather the facts. */
const guardFactFunctions = () => `# To the journal with a priority (systemd reads <N> prefixes), or to stderr for an operator at a terminal.
say() {
  if [ -n "\${INVOCATION_ID:-}" ]; then printf '<%s>%s\\n' "$1" "$2"; else printf '%s\\n' "$2" >&2; fi
}

${renderDecisionTable()}

local_state() {
  if [ ! -f "$data/PG_VERSION" ]; then echo no-cluster
  elif [ -f "$data/standby.signal" ] && grep -qx "$mark" "$data/standby.signal"; then echo guard-fenced
  elif [ -f "$data/standby.signal" ] || [ -f "$data/recovery.signal" ]; then echo standby
  else echo primary
  fi
}

control() { LC_ALL=C "$bin/pg_controldata" "$data" | sed -n "s/^$1: *//p"; }

# This node's timeline: the last checkpoint's, or a newer one whose history file is there (a promotion writes it
# at once; its checkpoint may not have happened before a power cut).
highest_timeline() {
  local tl h n
  tl=$(control "Latest checkpoint's TimeLineID")
  for h in "$data"/pg_wal/*.history; do
    [ -e "$h" ] || continue
    n=$((16#$(basename "$h" .history)))
    if [ "$n" -gt "$tl" ]; then tl=$n; fi
  done
  echo "$tl"
}

# Sets peer (a PEER_STATES value), peer_tl and peer_error.
probe_peer() {
  local out sysid hot
  if ! out=$(runuser -u postgres -- env PGPASSFILE=${q(PATHS.pgPass)} PGCONNECT_TIMEOUT=3 "$bin/psql" -XAtq -F ' ' "$conninfo" -c IDENTIFY_SYSTEM -c 'SHOW in_hot_standby' 2>&1); then
    peer=unreachable
    peer_error=$(printf '%s\\n' "$out" | tail -n 1)
    return 0
  fi
  sysid=$(printf '%s\\n' "$out" | sed -n 1p | cut -d' ' -f1)
  peer_tl=$(printf '%s\\n' "$out" | sed -n 1p | cut -d' ' -f2)
  hot=$(printf '%s\\n' "$out" | sed -n 2p)
  peer_error=
  if ! [[ "$peer_tl" =~ ^[0-9]+$ ]] || [ -z "$sysid" ]; then peer=unreachable; peer_error="unexpected answer: $out"
  elif [ "$sysid" != "$local_sysid" ]; then peer=other-cluster
  elif [ "$hot" = off ]; then peer=primary
  elif [ "$peer_tl" -gt "$local_tl" ]; then peer=standby-newer
  else peer=standby
  fi
}

`;

/** The boot guard script: The state file, and stopping what only runs beside a primary. */
const guardStateFunctions = () => `write_state() {
  mkdir -p "$(dirname "$state")"
  {
    echo "verdict=$verdict"
    echo "reason=$reason"
    echo "at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "trigger=$trigger"
    echo "local=$mine"
    echo "local_timeline=$local_tl"
    echo "peer=$peer_label"
    echo "peer_state=$peer"
    echo "peer_timeline=$peer_tl"
    echo "peer_error=$peer_error"
    echo "failover=$fo"
  } > "$state.new"
  mv -f "$state.new" "$state"
}

stop_primary_services() {
  local u
  for u in "\${gated[@]}"; do
    if [ "$u" = redis-server.service ] && grep -q '^replicaof ' ${q(REDIS_CONF)} 2>/dev/null; then continue; fi
    systemctl stop "$@" "$u" 2>/dev/null || true
  done
}

`;

/** The boot guard script: decide: gather the facts until the answer is not "wait", then fence or lift the fence. */
const guardDecideCommand = () => `cmd_decide() {
  trigger=boot
  if [ -e "$bootstrap_flag" ]; then trigger=bootstrap; rm -f "$bootstrap_flag"; fi
  local started waited ov told=0
  started=$(date +%s)
  while :; do
    mine=$(local_state)
    peer=unreachable
    if [ "$mine" = primary ] || [ "$mine" = guard-fenced ]; then
      local_sysid=$(control 'Database system identifier')
      local_tl=$(highest_timeline)
      probe_peer
    fi
    waited=in-time
    if [ $(($(date +%s) - started)) -ge "$wait_seconds" ]; then waited=waited; fi
    ov=no-override
    if [ -f "$override" ]; then ov=override; fi
    fo=no-failover
    if [ -f "$failover_conf" ]; then fo=failed-over; fi
    decide "$trigger:$mine:$peer:$waited:$ov:$fo"
    if [ "$verdict" != wait ]; then break; fi
    if [ $(( $(date +%s) - started )) -ge "$told" ]; then
      say 4 "$reason (peer: $peer_error)"
      told=$(( $(date +%s) - started + 10 ))
    fi
    sleep 2
  done
  case "$verdict" in
    fenced)
      if [ "$mine" = primary ]; then
        printf '%s\\n' "$mark" > "$data/standby.signal"
        chown postgres:postgres "$data/standby.signal"
        chmod 0600 "$data/standby.signal"
      fi
      # A boot has not started them yet (their gate keeps them off); a bootstrap finds them running.
      if [ "$trigger" = bootstrap ]; then stop_primary_services --no-block; fi
      say 2 "$reason\${peer_error:+ (peer: $peer_error)}"
      ;;
    primary)
      if [ "$mine" = guard-fenced ]; then rm -f "$data/standby.signal"; fi
      if [ "$ov" = override ]; then rm -f "$override"; fi
      say 5 "$reason"
      ;;
    *) say 6 "$reason" ;;
  esac
  write_state
}

`;

/** The boot guard script: gate, recheck, status, and the command dispatch. */
const guardOtherCommands = () => `# ExecCondition: exit 0 lets the unit start; 1 skips it (not a failure, no restart loop).
cmd_gate() {
  local unit=$1 in_recovery=""
  if [ "$unit" = redis-server ] && grep -q '^replicaof ' ${q(REDIS_CONF)} 2>/dev/null; then exit 0; fi
  for _ in $(seq 1 60); do
    if in_recovery=$(runuser -u postgres -- "$bin/psql" -XAtq -c 'select pg_is_in_recovery()' 2>/dev/null); then break; fi
    sleep 1
  done
  if [ "$in_recovery" = f ]; then exit 0; fi
  say 3 "not starting $unit: this node's PostgreSQL is $( [ "$in_recovery" = t ] && echo 'in recovery (not the primary)' || echo 'not running'). $(sed -n 's/^reason=//p' "$state" 2>/dev/null || true)"
  exit 1
}

cmd_recheck() {
  stop_primary_services
  systemctl stop "$pg_unit"
  systemctl restart ${BOOT_GUARD_UNIT}
  systemctl start "$pg_unit"
  local u
  for u in "\${gated[@]}"; do
    # A unit its gate skips (not beside a primary) is not an error here: status says why.
    if systemctl is-enabled --quiet "$u" 2>/dev/null; then systemctl start "$u" || true; fi
  done
  cmd_status
}

cmd_status() {
  if [ ! -f "$state" ]; then echo "no decision yet ($state is missing)"; return 0; fi
  cat "$state"
}

case "\${1:-}" in
  decide) cmd_decide ;;
  gate) cmd_gate "\${2:?gate needs the unit name}" ;;
  status) cmd_status ;;
  recheck) cmd_recheck ;;
  override)
    mkdir -p "$(dirname "$override")"
    date -u +%Y-%m-%dT%H:%M:%SZ > "$override"
    cmd_recheck
    ;;
  explain)
    decide "\${2:?explain needs a facts key trigger:local:peer:waited:override:failover}"
    printf '%s\\n%s\\n' "$verdict" "$reason"
    ;;
  *) sed -n '2,9s/^# \\{0,1\\}//p' "$0" >&2; exit 2 ;;
esac
`;

/** The guard script of a database node (decide, gate, status, recheck, override, explain). Pure. */
export function renderBootGuard(c: BootGuardConfig): string {
  return [guardHeader(c), guardFactFunctions(), guardStateFunctions(), guardDecideCommand(), guardOtherCommands()].join("");
}
