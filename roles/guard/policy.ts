/** The boot guard's policy: the facts, `decide`, and `decide` rendered as the bash table the node's script runs. Pure. */
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
