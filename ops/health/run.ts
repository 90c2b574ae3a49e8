/**
 * The health agent's loop (issue 11): every few seconds, on the PostgreSQL primary only, probe every child's
 * /health/ over the private network, decide (decide.ts) and make at most one record change. Installed on both
 * database machines; the standby idles until a failover makes it the primary, so it acts from one place at a
 * time. All effects come in through AgentDeps, so a tick is tested with fakes and the loop runs unchanged on a node.
 */
import type { DnsOperations } from "../dns/types";
import type { HealthConfig } from "./config";
import { decide, initialState, noteDnsCall, rateAllows, type AgentState, type Child, type HealthPolicy, type ProbeResult } from "./decide";

export type RecordOperations = Pick<DnsOperations, "listMembers" | "addMember" | "removeMember">;

export interface AgentDeps {
  config: HealthConfig;
  /** The record operations the agent uses: it reads, adds and removes one member at a time, nothing else. */
  dns: RecordOperations;
  /**
   * Whether the agent may act from this machine now: true, or why not ("not the primary (PostgreSQL is in
   * recovery …)", "the cluster has not finished its first bootstrap …"). Logged once as "<reason>: idle".
   */
  mayAct: () => Promise<true | string>;
  probe: (child: HealthConfig["children"][number]) => Promise<ProbeResult>;
  /** One journal line. */
  log: (line: string) => void;
  now: () => number;
  /** Decide and log, change nothing in DNS. */
  dryRun?: boolean;
}

/** What the agent carries from tick to tick (also what `status` shows). */
export interface AgentMemory {
  state: AgentState;
  /** Addresses the record lists, as last read or written; null until read. */
  record: string[] | null;
  recordReadAt: number;
  /** Whether the last tick ran as the primary (logged on change only). */
  acting: boolean;
  /** The last error logged (logged again only when it changes). */
  lastError?: string;
  lastProbes: ProbeResult[];
  /** Idle as a non-primary or before the first bootstrap finished (logged once per reason). */
  idle?: boolean;
  idleReason?: string;
}

export function initialMemory(): AgentMemory {
  return { state: initialState(), record: null, recordReadAt: 0, acting: false, lastProbes: [] };
}

function policyOf(c: HealthConfig): HealthPolicy {
  return { failuresToRemove: c.failuresToRemove, successesToRestore: c.successesToRestore, maxDnsCallsPerMinute: c.maxDnsCallsPerMinute };
}

function logError(m: AgentMemory, deps: AgentDeps, message: string): AgentMemory {
  if (m.lastError !== message) deps.log(message);
  return { ...m, lastError: message };
}

/** Read the record when it is due (and the rate limit allows); null record = could not. */
async function refreshRecord(m: AgentMemory, deps: AgentDeps, now: number): Promise<AgentMemory> {
  const due = m.record === null || now - m.recordReadAt >= deps.config.recordRefreshSeconds * 1000;
  if (!due || !rateAllows(m.state.dnsCalls, now, policyOf(deps.config)).ok) return m;
  const state = noteDnsCall(m.state, now);
  try {
    const members = await deps.dns.listMembers(deps.config.fqdn);
    return { ...m, state, record: members.map((x) => x.address), recordReadAt: now, lastError: undefined };
  } catch (err) {
    return logError({ ...m, state }, deps, `cannot read the record ${deps.config.fqdn}: ${(err as Error).message}`);
  }
}

/** One round: primary check, record, probes, decision, at most one DNS change. */
export async function tick(m: AgentMemory, deps: AgentDeps): Promise<AgentMemory> {
  const primary = await deps.mayAct();
  if (primary !== true) {
    if (!m.idle || m.idleReason !== primary) deps.log(`${primary}: idle`);
    // A later promotion starts from the record as it is then, with fresh counters.
    return { ...initialMemory(), idle: true, idleReason: primary };
  }
  if (!m.acting)
    deps.log(`the primary: checking ${deps.config.children.length} children of ${deps.config.fqdn} every ${deps.config.intervalSeconds} s`);
  let mem = await refreshRecord({ ...m, acting: true, idle: false }, deps, deps.now());
  if (mem.record === null) return mem;
  const record = mem.record;
  const probes = await Promise.all(deps.config.children.map((c) => deps.probe(c)));
  const now = deps.now();
  const children: Child[] = deps.config.children.map((c) => ({ name: c.name, address: c.address }));
  const d = decide(mem.state, { children, probes, record, now }, policyOf(deps.config));
  for (const line of d.log) deps.log(deps.dryRun && d.change && /^(removed|added back) /.test(line) ? `dry run: ${line}` : line);
  mem = { ...mem, state: d.state, lastProbes: probes };
  if (!d.change) return mem;
  const c = d.change;
  const member = { name: c.child.name, address: c.child.address };
  try {
    if (!deps.dryRun)
      await (c.op === "remove"
        ? deps.dns.removeMember(deps.config.fqdn, member)
        : deps.dns.addMember(deps.config.fqdn, member, deps.config.ttl));
    return { ...mem, record: c.op === "remove" ? record.filter((a) => a !== member.address) : [...record, member.address] };
  } catch (err) {
    // Read the record again before the next decision: the change may or may not have happened.
    return logError({ ...mem, record: null }, deps, `${c.op} ${member.name} failed: ${(err as Error).message}`);
  }
}

/** Tick until `signal` aborts, one round every intervalSeconds (a slow round is not followed by a burst). */
export async function runAgent(deps: AgentDeps, signal: AbortSignal, onTick: (m: AgentMemory) => void = () => undefined): Promise<void> {
  let m = initialMemory();
  while (!signal.aborted) {
    const started = Date.now();
    try {
      m = await tick(m, deps);
    } catch (err) {
      m = logError(m, deps, `round failed: ${(err as Error).message}`);
    }
    onTick(m);
    const wait = Math.max(0, deps.config.intervalSeconds * 1000 - (Date.now() - started));
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, wait);
      signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
    });
  }
}
