/**
 * The boot guard of the database nodes: never two writable primaries (issue 9).
 *
 * A database node whose PostgreSQL would start as a primary (no standby.signal) first asks its peer database
 * node, over the replication protocol (IDENTIFY_SYSTEM, SHOW in_hot_standby: the replication user and the
 * pg_hba lines the pair already has), whether the peer took over. `decide` is the whole policy, a pure function
 * of the facts; the node's script (`renderBootGuard`) only gathers the facts and looks the answer up in a table
 * rendered from `decide` for every combination, so what the unit tests prove is what the machine runs.
 *
 * Fenced means: PostgreSQL starts in recovery (a standby.signal the guard marks as its own), so not a single
 * write is accepted — not from the app, not from a client that still has the address, not with
 * `SET transaction_read_write`; the NFS export, share replication (lsyncd, whose rsync --delete would overwrite
 * the new primary's share) and a Redis master do not start (their gate asks the local PostgreSQL whether it is
 * a primary). The reason goes to the journal and to a state file that status and rejoin show.
 *
 * The peer cannot be asked (down, booting, unreachable): at boot the guard waits a bounded time (a peer booting
 * at the same time — a whole-cluster power cut — answers within seconds: its standby accepts read-only
 * connections before it reaches any primary), then fails closed (fenced) with a journal message that names the
 * operator's override. During a bootstrap the stack record names this node the primary, so an unset-up peer does
 * not block it; a node that was fenced before stays fenced until `recheck` (the peer answers) or `override`.
 */
import { DB, PATHS, PORTS } from "./context";
import { POSTGRES_UNIT, REDIS_CONF } from "./db";
import { file, FileAction } from "./actions";
import { renderUnit, unitPath, UnitEntry, UnitFile } from "./files/systemd";
import { shellQuote as q } from "./shell";
import type { ScriptAction } from "./scripts";
import { bashScript } from "./shell";

/** What started the guard: a boot of the machine, or the bootstrap (the stack record names this node's role). */
export const GUARD_TRIGGERS = ["boot", "bootstrap"] as const;
export type GuardTrigger = (typeof GUARD_TRIGGERS)[number];

/** This node's data directory, read before PostgreSQL starts. */
export const LOCAL_STATES = ["no-cluster", "standby", "guard-fenced", "primary"] as const;
export type LocalState = (typeof LOCAL_STATES)[number];

/** The peer database node's PostgreSQL as it answered (or not). */
export const PEER_STATES = ["unreachable", "other-cluster", "primary", "standby-newer", "standby"] as const;
export type PeerState = (typeof PEER_STATES)[number];

export interface GuardFacts {
  trigger: GuardTrigger;
  /**
   * no-cluster: no data directory; standby: a standby.signal of replication (pg_basebackup -R, rejoin);
   * guard-fenced: a standby.signal this guard wrote at an earlier boot; primary: no standby.signal.
   */
  local: LocalState;
  /**
   * unreachable: no answer (down, booting, firewall, authentication); other-cluster: another system identifier
   * (a fresh default cluster not yet our standby, or rebuilt: it holds none of our writes); primary: not in
   * recovery; standby-newer: in recovery on a newer timeline than ours (promoted after our history ended);
   * standby: in recovery on our timeline or an older one.
   */
  peer: PeerState;
  /** The bounded wait for an unreachable peer is over. */
  waitedOut: boolean;
  /** The operator's one-shot override file is there: an unreachable peer is not a primary. */
  override: boolean;
  /**
   * An emergency failover promoted this node and fenced the peer, which has not rejoined since (the runbook's
   * "no standby" file, FAILOVER_NO_STANDBY_CONF, is there; the rejoin removes it). The fenced peer cannot have
   * become a primary on its own since: its guard stays fenced, or fails closed, while this node cannot be asked.
   */
  failedOver: boolean;
}

export const VERDICTS = ["no-cluster", "standby", "primary", "fenced", "wait"] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface GuardDecision {
  verdict: Verdict;
  /**
   * Why, for the journal and the state file. Placeholders filled on the machine: {peer} (name and address),
   * {localTimeline}, {peerTimeline}, {waitSeconds}.
   */
  reason: string;
}

const REJOIN = "rejoin it as the standby of the current primary (npm run failover -- rejoin)";
const OVERRIDE = "django-ha-boot-guard override";
const RECHECK = "django-ha-boot-guard recheck";

/** The policy. Pure; every combination of facts is tested and rendered into the node's script. */
export function decide(f: GuardFacts): GuardDecision {
  switch (f.local) {
    case "no-cluster":
      return { verdict: "no-cluster", reason: "no PostgreSQL cluster in the data directory: nothing to guard" };
    case "standby":
      return {
        verdict: "standby",
        reason: "a standby (standby.signal of replication): PostgreSQL starts in recovery and follows its primary",
      };
    case "guard-fenced":
    case "primary":
      break;
    default: {
      const never: never = f.local;
      throw new Error(`unknown local state ${String(never)}`);
    }
  }
  const wasFenced = f.local === "guard-fenced";
  switch (f.peer) {
    case "primary":
      return {
        verdict: "fenced",
        reason: `FENCED: the peer {peer} is a primary (timeline {peerTimeline}, this node {localTimeline}): it took over while this node was away. PostgreSQL starts read-only in recovery; no NFS export, no share replication, no Redis master. ${capitalize(REJOIN)}`,
      };
    case "standby-newer":
      return {
        verdict: "fenced",
        reason: `FENCED: the peer {peer} is in recovery on a newer timeline ({peerTimeline} > {localTimeline}): it was promoted after this node's history ends, so this node's data is older. PostgreSQL starts read-only in recovery; find the newest primary, then ${REJOIN}`,
      };
    case "other-cluster":
      return {
        verdict: "primary",
        reason:
          "the peer {peer} runs another PostgreSQL cluster (another system identifier: not yet this cluster's standby, or rebuilt), so it holds none of this cluster's writes: starting as the primary",
      };
    case "standby":
      return {
        verdict: "primary",
        reason: `the peer {peer} is a standby (timeline {peerTimeline}, this node {localTimeline}): starting as the primary${wasFenced ? " (the earlier fence is lifted)" : ""}`,
      };
    case "unreachable":
      break;
    default: {
      const never: never = f.peer;
      throw new Error(`unknown peer state ${String(never)}`);
    }
  }
  if (f.override) {
    return {
      verdict: "primary",
      reason: `OVERRIDE: the peer {peer} cannot be asked and the operator stated (${OVERRIDE}) that it is not a primary: starting as the primary`,
    };
  }
  if (wasFenced) {
    return {
      verdict: "fenced",
      reason: `FENCED: this node was fenced at an earlier start and the peer {peer} cannot be asked: it stays read-only. When the peer answers again: ${RECHECK}; if the peer is gone for good and was never promoted: ${OVERRIDE}`,
    };
  }
  if (f.failedOver) {
    return {
      verdict: "primary",
      reason: `the peer {peer} cannot be asked, and the failover that promoted this node fenced it (no rejoin since): a fenced peer cannot have become a primary without this node, so starting as the primary. ${capitalize(REJOIN.replace("rejoin it", "rejoin the peer"))}`,
    };
  }
  if (f.trigger === "bootstrap") {
    return {
      verdict: "primary",
      reason:
        "the peer {peer} cannot be asked (not set up yet, or down) and the bootstrap runs with the stack record naming this node the primary: starting as the primary",
    };
  }
  if (!f.waitedOut)
    return { verdict: "wait", reason: "waiting for the peer {peer} to answer (up to {waitSeconds} s) before starting as the primary" };
  return {
    verdict: "fenced",
    reason: `FAIL CLOSED: the peer {peer} did not answer within {waitSeconds} s, so it may have been promoted: PostgreSQL starts read-only in recovery, no NFS export, no share replication, no Redis master. If the peer is back: ${RECHECK}. If it is gone for good and was never promoted (no failover happened): ${OVERRIDE}`,
  };
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Every combination of facts, in a fixed order. Pure. */
export function allGuardFacts(): GuardFacts[] {
  const out: GuardFacts[] = [];
  for (const trigger of GUARD_TRIGGERS)
    for (const local of LOCAL_STATES)
      for (const peer of PEER_STATES)
        for (const waitedOut of [false, true])
          for (const override of [false, true])
            for (const failedOver of [false, true]) out.push({ trigger, local, peer, waitedOut, override, failedOver });
  return out;
}

/** The key the script builds from the facts it gathered: trigger:local:peer:waited:override:failover. */
export function factsKey(f: GuardFacts): string {
  return [
    f.trigger,
    f.local,
    f.peer,
    f.waitedOut ? "waited" : "in-time",
    f.override ? "override" : "no-override",
    f.failedOver ? "failed-over" : "no-failover",
  ].join(":");
}

/** The reason with its placeholders filled (the script does the same with its variables). Pure. */
export function reasonText(
  reason: string,
  values: { peer: string; localTimeline: string; peerTimeline: string; waitSeconds: number },
): string {
  return reason
    .replaceAll("{peer}", values.peer)
    .replaceAll("{localTimeline}", values.localTimeline)
    .replaceAll("{peerTimeline}", values.peerTimeline)
    .replaceAll("{waitSeconds}", String(values.waitSeconds));
}

/** decide() as a bash case statement over the facts key, combinations with the same answer grouped. Pure. */
export function renderDecisionTable(): string {
  const groups = new Map<string, { decision: GuardDecision; keys: string[] }>();
  for (const f of allGuardFacts()) {
    const d = decide(f);
    if (/["$`\\]/.test(d.reason)) throw new Error(`guard reason must not contain ", $, \` or \\: ${d.reason}`);
    const id = `${d.verdict}\n${d.reason}`;
    const g = groups.get(id) ?? { decision: d, keys: [] };
    g.keys.push(factsKey(f));
    groups.set(id, g);
  }
  const bashReason = (r: string) =>
    r
      .replaceAll("{peer}", "${peer_label}")
      .replaceAll("{localTimeline}", "${local_tl}")
      .replaceAll("{peerTimeline}", "${peer_tl}")
      .replaceAll("{waitSeconds}", "${wait_seconds}");
  const arms = [...groups.values()].map(
    (g) => `    ${g.keys.join("|\\\n    ")})\n      verdict='${g.decision.verdict}'\n      reason="${bashReason(g.decision.reason)}" ;;`,
  );
  return `decide() {
  case "$1" in
${arms.join("\n")}
    *) echo "django-ha-boot-guard: no decision for facts $1" >&2; return 1 ;;
  esac
}`;
}

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

/** The guard script of a database node (decide, gate, status, recheck, override, explain). Pure. */
export function renderBootGuard(c: BootGuardConfig): string {
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

# To the journal with a priority (systemd reads <N> prefixes), or to stderr for an operator at a terminal.
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

write_state() {
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

cmd_decide() {
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

# ExecCondition: exit 0 lets the unit start; 1 skips it (not a failure, no restart loop).
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
}

/** The guard's unit: once per boot, after the network and the db volume, before PostgreSQL and the gated units. Pure. */
export function bootGuardUnit(dbMount: UnitEntry[]): UnitFile {
  return {
    name: BOOT_GUARD_UNIT,
    sections: [
      [
        "Unit",
        [
          ["Description", "django-ha: may this database node start as the primary? (asks the peer database node)"],
          ["Wants", "network-online.target"],
          ["After", "network-online.target"],
          ...dbMount,
          ["Before", [`${POSTGRES_UNIT}.service`, ...GATED_UNITS].join(" ")],
        ],
      ],
      [
        "Service",
        [
          ["Type", "oneshot"],
          ["RemainAfterExit", true],
          ["ExecStart", `${BOOT_GUARD_SCRIPT} decide`],
          ["TimeoutStartSec", BOOT_GUARD_WAIT_SECONDS + 60],
        ],
      ],
      ["Install", [["WantedBy", "multi-user.target"]]],
    ],
  };
}

const dropInPath = (unit: string) => `/etc/systemd/system/${unit}.d/django-ha-guard.conf`;

/** PostgreSQL requires the guard's decision (no decision, no start); the gated units ask the gate. Pure. */
export function guardDropIns(): FileAction[] {
  const pg = file(
    dropInPath("postgresql@.service"),
    renderUnit({
      name: "postgresql@.service.d/django-ha-guard.conf",
      sections: [
        [
          "Unit",
          [
            ["Requires", BOOT_GUARD_UNIT],
            ["After", BOOT_GUARD_UNIT],
          ],
        ],
      ],
    }),
  );
  const gates = GATED_UNITS.map((u) =>
    file(
      dropInPath(u),
      renderUnit({
        name: `${u}.d/django-ha-guard.conf`,
        sections: [
          ["Unit", [["After", `${BOOT_GUARD_UNIT} ${POSTGRES_UNIT}.service`]]],
          ["Service", [["ExecCondition", `+${BOOT_GUARD_SCRIPT} gate ${u.replace(/\.service$/, "")}`]]],
        ],
      }),
    ),
  );
  return [pg, ...gates];
}

/**
 * The bootstrap's guard step: enable the unit and, when it has not decided since this boot, let it decide now
 * (as the bootstrap: the stack record names this node's role).
 * - parent role: a record that does not say "primary" (made at boot, before a failover promoted the node) is
 *   decided again now; a fenced node is not made a primary: the bootstrap stops here with the guard's reason.
 * - standby role: a fenced node goes on to the standby steps (the base backup replaces only Debian's empty
 *   default cluster, and refuses a data directory with data in it: that one is rejoined by the runbook).
 */
export function bootGuardScript(role: "parent" | "standby"): ScriptAction {
  const fenced =
    role === "parent"
      ? `# The record may be older than this node's role: a boot-time "fenced" or "standby" from before a failover promoted
# it. The bootstrap makes it a primary only on a decision about the present: decide again (as the bootstrap).
if [ "$verdict" != primary ]; then
  touch ${q(BOOT_GUARD_BOOTSTRAP_FLAG)}
  ${BOOT_GUARD_SCRIPT} decide
  verdict=$(sed -n 's/^verdict=//p' ${q(BOOT_GUARD_STATE)})
  echo "boot guard, decided again for the parent role: $verdict"
fi
if [ "$verdict" = fenced ]; then
  echo "this node is fenced by its boot guard and is not made a primary: $(sed -n 's/^reason=//p' ${q(BOOT_GUARD_STATE)})" >&2
  exit 1
fi`
      : `if [ "$verdict" = fenced ]; then echo "fenced: PostgreSQL stays read-only until it is this cluster's standby"; fi`;
  return {
    kind: "script",
    name: "boot-guard",
    script: bashScript(
      `the boot guard decided (${role})`,
      `unit=${BOOT_GUARD_UNIT}
if ! systemctl is-enabled --quiet "$unit"; then systemctl enable --quiet "$unit"; changed; fi
if ! systemctl is-active --quiet "$unit"; then
  touch ${q(BOOT_GUARD_BOOTSTRAP_FLAG)}
  if ! systemctl start "$unit"; then
    echo "the boot guard failed: see journalctl -u $unit" >&2
    exit 1
  fi
  changed
fi
verdict=$(sed -n 's/^verdict=//p' ${q(BOOT_GUARD_STATE)})
echo "boot guard: $verdict"
${fenced}`,
    ),
  };
}

/**
 * After the standby's base backup: a decision recorded before it ("fenced": Debian's default cluster looked like a
 * primary) no longer describes the node; decide again (a standby needs no peer), so status tells the truth.
 */
export function bootGuardRefreshScript(): ScriptAction {
  return {
    kind: "script",
    name: "boot-guard-refresh",
    script: bashScript(
      "the boot guard's record matches the standby the node now is",
      `data=${q(PATHS.pgData)}
if [ "$(sed -n 's/^verdict=//p' ${q(BOOT_GUARD_STATE)} 2>/dev/null)" != standby ] && [ -f "$data/standby.signal" ] && ! grep -qx ${q(GUARD_SIGNAL_MARK)} "$data/standby.signal"; then
  ${BOOT_GUARD_SCRIPT} decide
  changed
fi`,
    ),
  };
}

/** Everything the guard needs on a database node (script, unit, drop-ins), before anything starts PostgreSQL. */
export function bootGuardFiles(peer: { name: string; privateAddress: string }, dbMount: UnitEntry[]): FileAction[] {
  const unit = bootGuardUnit(dbMount);
  return [
    file(
      BOOT_GUARD_SCRIPT,
      renderBootGuard({
        peerName: peer.name,
        peerAddress: peer.privateAddress,
        port: PORTS.postgres,
        waitSeconds: BOOT_GUARD_WAIT_SECONDS,
      }),
      "0755",
    ),
    file(unitPath(unit.name), renderUnit(unit)),
    ...guardDropIns(),
  ];
}
