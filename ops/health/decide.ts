/**
 * The health agent's decisions (issue 11): which children the round-robin record lists. Pure: the agent's loop
 * (agent.ts) feeds it probe results and the record, and carries out the one DNS change it returns.
 *
 * - A member leaves the record after `failuresToRemove` consecutive failed probes, and a child comes back after
 *   `successesToRestore` consecutive good ones (one bad answer never moves the record).
 * - Fail open: the record never loses its last member. When every child fails, the record keeps what it has
 *   (a dead site is no worse with the record as it is; an empty record makes it unreachable for sure).
 * - DNS calls are rate limited: at most `maxDnsCallsPerMinute` in any 60 s; a change that must wait is retried
 *   on a later tick.
 * - One log line per change, with the reason.
 */
import { HEALTH_AGENT_LIMITS, HEALTH_DEFAULTS } from "../../model/health";

export interface HealthPolicy {
  /** Consecutive failed probes before a member leaves the record. Defaults to 3. */
  failuresToRemove: number;
  /** Consecutive good probes before a child comes back. Defaults to 2. */
  successesToRestore: number;
  /** DNS API calls (reads and writes) allowed in any 60 s. Defaults to 12. */
  maxDnsCallsPerMinute: number;
}

export const DEFAULT_POLICY: HealthPolicy = {
  failuresToRemove: HEALTH_DEFAULTS.failuresToRemove,
  successesToRestore: HEALTH_DEFAULTS.successesToRestore,
  maxDnsCallsPerMinute: HEALTH_AGENT_LIMITS.maxDnsCallsPerMinute,
};

export interface Child {
  name: string;
  /** Address published in the record. */
  address: string;
}

/** One probe of a child's /health/: ok, or why not ("502", "timeout after 2 s", "connection refused"). */
export interface ProbeResult {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ChildState {
  failures: number;
  successes: number;
  /** The last failure's detail (for the log line that removes it). */
  lastFailure?: string;
}

export interface AgentState {
  children: Record<string, ChildState>;
  /** Epoch ms of the DNS calls made in the last 60 s. */
  dnsCalls: number[];
  /** Whether "every child fails" was already logged (logged once per episode). */
  failOpen: boolean;
  /** Whether a change is waiting for the rate limit (logged once per episode). */
  rateLimited: boolean;
}

export function initialState(): AgentState {
  return { children: {}, dnsCalls: [], failOpen: false, rateLimited: false };
}

/** What to do to the record now. */
export type RecordChange = { op: "remove"; child: Child; reason: string } | { op: "add"; child: Child; reason: string };

export interface Decision {
  state: AgentState;
  /** At most one change per tick (each is one DNS call). */
  change?: RecordChange;
  /** Lines to log (each change with its reason, fail-open and rate-limit episodes). */
  log: string[];
}

/** Count one probe into a child's state. */
function counted(prev: ChildState | undefined, r: ProbeResult): ChildState {
  const p = prev ?? { failures: 0, successes: 0 };
  return r.ok ? { failures: 0, successes: p.successes + 1 } : { failures: p.failures + 1, successes: 0, lastFailure: r.detail };
}

/** Whether a DNS call may be made now (and the calls kept for the window). */
export function rateAllows(calls: number[], now: number, policy: HealthPolicy): { ok: boolean; recent: number[] } {
  const recent = calls.filter((t) => now - t < 60_000);
  return { ok: recent.length < policy.maxDnsCallsPerMinute, recent };
}

/** The change the counters call for, ignoring the rate limit: removals first (a dead member hurts visitors now). */
function wantedChange(
  children: Child[],
  state: AgentState,
  inRecord: Set<string>,
  policy: HealthPolicy,
): { change?: RecordChange; failOpen: boolean } {
  const members = children.filter((c) => inRecord.has(c.address));
  const failing = members.filter((c) => (state.children[c.name]?.failures ?? 0) >= policy.failuresToRemove);
  // Fail open, as Route 53 does when every record is unhealthy: all members failing keep the record as it is.
  if (failing.length > 0 && failing.length === members.length) return { failOpen: true };
  if (failing.length > 0) {
    const s = state.children[failing[0].name];
    return {
      change: { op: "remove", child: failing[0], reason: `${s.failures} consecutive failed probes (last: ${s.lastFailure ?? "?"})` },
      failOpen: false,
    };
  }
  const back = children.find((c) => !inRecord.has(c.address) && (state.children[c.name]?.successes ?? 0) >= policy.successesToRestore);
  if (back)
    return {
      change: { op: "add", child: back, reason: `${state.children[back.name].successes} consecutive good probes` },
      failOpen: false,
    };
  return { failOpen: false };
}

/** Count a DNS call the agent made outside decide() (reading the record). */
export function noteDnsCall(state: AgentState, now: number): AgentState {
  return { ...state, dnsCalls: [...state.dnsCalls.filter((t) => now - t < 60_000), now] };
}

/** What one tick saw: the cluster's children, their probes, the record's addresses now, the time. */
export interface TickFacts {
  children: Child[];
  probes: ProbeResult[];
  record: readonly string[];
  now: number;
}

/**
 * One tick: count the probes, then decide at most one record change. `record` is the set of addresses the
 * record lists now. Children not in `children` (not of this cluster) are never touched. Pure.
 */
export function decide(state: AgentState, tick: TickFacts, policy: HealthPolicy = DEFAULT_POLICY): Decision {
  const { children, probes, record, now } = tick;
  const counts = { ...state.children };
  for (const r of probes) if (children.some((c) => c.name === r.name)) counts[r.name] = counted(counts[r.name], r);
  const next: AgentState = { ...state, children: counts };
  const log: string[] = [];
  const { change, failOpen } = wantedChange(children, next, new Set(record), policy);
  if (failOpen && !state.failOpen)
    log.push(`every child in the record fails: the record keeps ${record.join(", ")} (fail open; never the last member)`);
  next.failOpen = failOpen;
  if (!change) return { state: { ...next, rateLimited: false }, log };
  const rate = rateAllows(state.dnsCalls, now, policy);
  if (!rate.ok) {
    if (!state.rateLimited)
      log.push(`${change.op} ${change.child.name} waits: ${policy.maxDnsCallsPerMinute} DNS calls in the last 60 s (rate limit)`);
    return { state: { ...next, dnsCalls: rate.recent, rateLimited: true }, log };
  }
  const verb = change.op === "remove" ? "removed" : "added back";
  log.push(`${verb} ${change.child.name} (${change.child.address}) ${change.op === "remove" ? "from" : "to"} the record: ${change.reason}`);
  return { state: { ...next, dnsCalls: [...rate.recent, now], rateLimited: false }, change, log };
}
