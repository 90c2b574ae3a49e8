/**
 * Rejoin (issue 9 item 4): turn the old primary — fenced by its boot guard after a failover (roles/guard/) —
 * into the standby of the current primary, without losing a write the current primary has, and without silently
 * throwing away one it lacks.
 *
 * Contract with scripts/failover.ts (helper "runbook" wires `npm run failover -- --stack <s> rejoin` to it):
 *
 *   rejoinStandby(options: RejoinOptions): Promise<RejoinResult>
 *
 *   - `options.inventory` is the stack's inventory AFTER the failover was recorded: `primary` is the current
 *     primary, `standby` the node to rejoin (the old primary). The record is not changed here.
 *   - `options.connect(node)` opens an SSH executor to a node (the caller's pinned keys and user).
 *   - `options.force` accepts what a refusal explains (see below); `options.dryRun` only observes and returns
 *     the plan; `options.confirm(question)` is asked before anything on the nodes changes (`--yes` → () => true).
 *   - `options.converge(inventory, nodes)`, when given, runs the bootstrap of these nodes with the inventory's
 *     roles once PostgreSQL streams (the share replication in the new direction: lsyncd on the primary, the
 *     standby's authorized key, the Redis replica): the same callback the runbook's planned failover uses.
 *   - Refusals are UserErrors whose message says what was seen and what to do; the nodes are left as they were.
 *
 * What it does, from what it observes on both nodes:
 *   - the current primary must be a primary (not in recovery); its timeline history says where each earlier
 *     timeline ended (the fork point of the old primary's timeline);
 *   - the old primary's end of WAL (what it replayed, fenced in recovery) against that fork point:
 *     - at or before the fork: it simply follows the new timeline (standby.signal, primary_conninfo): "follow";
 *     - past the fork, with no commit record past it (checkpoints, hint records): pg_rewind (wal_log_hints is on)
 *       then follow: "rewind";
 *     - past the fork WITH commit records: those transactions exist on the old primary only (under
 *       degrade-to-async possibly acknowledged writes; under strict sync, commits whose wait was cancelled):
 *       REFUSED, naming how many and the LSN range, unless `force` (then rewound away);
 *     - its timeline is not in the current primary's history (it was promoted on its own): REFUSED unless
 *       `force`, then a fresh base backup (the old data directory is kept beside it, never deleted);
 *   - pg_rewind fails: a fresh base backup, the old data directory kept;
 *   - synchronous replication: `synchronous_standby_names` comes from the roles; the runbook's "no standby"
 *     override (a conf.d file it names in `options.noStandbyOverride`) is removed once the standby streams.
 */
import { DB } from "../../roles/context";
import { UserError } from "../../model/errors";
import type { Inventory, InventoryNode } from "../../model";
import { DEFAULT_TIMEOUT_MS, type RemoteExecutor } from "../ssh/executor";
import { must } from "./must";
import {
  observePrimary,
  observeNode,
  applyRejoin,
  preparePrimary,
  waitStreaming,
  restoreSynchronous,
  keyValues,
  type RejoinApplyMethod,
} from "./commands/rejoin";

export type RejoinMethod = "already" | RejoinApplyMethod;

export interface RejoinOptions {
  inventory: Inventory;
  connect: (node: InventoryNode) => Promise<RemoteExecutor>;
  confirm: (question: string) => Promise<boolean>;
  /** Go ahead where a refusal explains a risk (commits only the old primary has, a foreign timeline). */
  force?: boolean;
  dryRun?: boolean;
  /** Bootstrap these nodes with the inventory's roles (share replication in the new direction, Redis replica). */
  converge?: (inventory: Inventory, nodes: string[]) => Promise<{ ok: boolean; text: string }>;
  /** The runbook's conf.d file that empties synchronous_standby_names while there is no standby; removed at the end. */
  noStandbyOverride?: string;
  log?: (line: string) => void;
  /** How long to wait for the standby to stream. Defaults to 120 s. */
  streamTimeoutMs?: number;
}

export interface RejoinResult {
  node: string;
  primary: string;
  method: RejoinMethod;
  /** Why this method (what was observed). */
  reason: string;
  /** Done only when not a dry run. */
  done: boolean;
  seconds: number;
  summary: string[];
}

// ------------------------------------------------------------------------------------------------ pure part

/** "16/B374D848" → a number (bigint) for comparisons. Pure. */
export function parseLsn(lsn: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (!m) throw new Error(`not an LSN: ${JSON.stringify(lsn)}`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

export interface TimelineFork {
  /** The timeline that ended. */
  timeline: number;
  /** Where it ended (the next timeline starts here). */
  switchpoint: string;
}

/** A timeline history file (`00000003.history`): "<parent tli>\t<switchpoint>\t<reason>" lines. Pure. */
export function parseTimelineHistory(text: string): TimelineFork[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [tli, switchpoint] = l.split(/\s+/);
      parseLsn(switchpoint);
      return { timeline: Number(tli), switchpoint };
    });
}

export interface RejoinFacts {
  primary: { inRecovery: boolean; timeline: number; history: TimelineFork[] };
  node: {
    /** Already streaming from the primary. */
    streamingFromPrimary: boolean;
    timeline: number;
    /** The end of its WAL (replayed in recovery, or written as a primary). */
    endLsn: string;
    /** Commit records past the fork point (counted with pg_waldump); undefined when not counted. */
    commitsPastFork?: number;
  };
  force: boolean;
}

export type RejoinDecision = { ok: true; method: RejoinMethod; reason: string; forkLsn?: string } | { ok: false; reason: string };

/** The fork point of the node's timeline in the primary's history, if the node's timeline is an ancestor. Pure. */
export function forkOf(f: Pick<RejoinFacts, "primary" | "node">): string | undefined {
  return f.primary.history.find((h) => h.timeline === f.node.timeline)?.switchpoint;
}

/** What rejoin does. `commitsPastFork` is asked for only when the node's WAL goes past the fork. Pure. */
export function decideRejoin(f: RejoinFacts): RejoinDecision {
  if (f.primary.inRecovery)
    return {
      ok: false,
      reason: "the current primary is in recovery (not a primary): finish the failover first (npm run failover), then rejoin",
    };
  if (f.node.streamingFromPrimary) return { ok: true, method: "already", reason: "it already streams from the current primary" };
  if (f.node.timeline === f.primary.timeline) {
    return f.force
      ? {
          ok: true,
          method: "basebackup",
          reason: `it is on the primary's own timeline ${f.primary.timeline} without being its standby (two histories on one timeline): a fresh base backup (forced)`,
        }
      : {
          ok: false,
          reason: `it is on the primary's own timeline ${f.primary.timeline} but not its standby: the two may have diverged on the same timeline, which pg_rewind cannot tell. Compare them yourself; --force replaces its data with a fresh base backup (its data directory is kept beside it)`,
        };
  }
  const fork = forkOf(f);
  if (fork === undefined) {
    return f.force
      ? {
          ok: true,
          method: "basebackup",
          reason: `its timeline ${f.node.timeline} is not in the primary's history (timeline ${f.primary.timeline}): a fresh base backup (forced)`,
        }
      : {
          ok: false,
          reason: `its timeline ${f.node.timeline} is not in the primary's history (timeline ${f.primary.timeline}): it was promoted on its own and may hold writes the primary lacks. Look at both; --force replaces its data with a fresh base backup (its data directory is kept beside it)`,
        };
  }
  if (parseLsn(f.node.endLsn) <= parseLsn(fork)) {
    return {
      ok: true,
      method: "follow",
      reason: `its WAL ends at ${f.node.endLsn}, at or before where its timeline ${f.node.timeline} forked (${fork}): it follows the new timeline as it is`,
      forkLsn: fork,
    };
  }
  if (f.node.commitsPastFork === undefined)
    throw new Error("decideRejoin: the node's WAL goes past the fork: count its commit records first");
  if (f.node.commitsPastFork === 0) {
    return {
      ok: true,
      method: "rewind",
      reason: `its WAL goes past the fork (${fork} → ${f.node.endLsn}) without a commit record: pg_rewind drops only non-transactional records`,
      forkLsn: fork,
    };
  }
  const what = `${f.node.commitsPastFork} transaction${f.node.commitsPastFork === 1 ? "" : "s"} committed past the fork (${fork} → ${f.node.endLsn}) exist on this node only`;
  return f.force
    ? { ok: true, method: "rewind", reason: `${what}: rewound away (forced)`, forkLsn: fork }
    : {
        ok: false,
        reason: `${what} — writes the primary lacks (acknowledged ones under degrade-to-async, or commits whose synchronous wait was cancelled). Save what you need from it (it runs read-only: pg_dump works), then rejoin with --force, which rewinds them away`,
      };
}

// ------------------------------------------------------------------------------------------------ the run

/** What decideRejoin needs: the primary's timeline and history, the node's timeline, end of WAL and commits past the fork. */
async function observeRejoinFacts(o: {
  px: RemoteExecutor;
  nx: RemoteExecutor;
  primary: { name: string; privateAddress: string };
  nodeName: string;
  force: boolean;
  step: (s: string) => void;
}): Promise<RejoinFacts> {
  const { px, nx, step } = o;
  const primaryAddress = o.primary.privateAddress;
  step(`${o.primary.name}: is it the primary, on which timeline?`);
  const p = keyValues(await must(px, observePrimary(), "reading the primary's state", DEFAULT_TIMEOUT_MS));
  const history = p.history ? parseTimelineHistory(Buffer.from(p.history, "base64").toString("utf8")) : [];
  const facts: RejoinFacts = {
    primary: { inRecovery: p.recovery !== "f", timeline: Number(p.timeline), history },
    node: { streamingFromPrimary: false, timeline: 0, endLsn: "0/0" },
    force: o.force,
  };
  step(`${o.nodeName}: its timeline and end of WAL`);
  let n = keyValues(await must(nx, observeNode(primaryAddress), "reading the node's state", DEFAULT_TIMEOUT_MS));
  facts.node = { streamingFromPrimary: n.streaming === "1", timeline: Number(n.timeline), endLsn: n.end || "0/0" };
  const fork = forkOf(facts);
  if (fork && !facts.node.streamingFromPrimary && parseLsn(facts.node.endLsn) > parseLsn(fork)) {
    n = keyValues(await must(nx, observeNode(primaryAddress, fork), "counting commit records past the fork", DEFAULT_TIMEOUT_MS));
    facts.node.commitsPastFork = Number(n.commits ?? "NaN");
    if (!Number.isInteger(facts.node.commitsPastFork))
      throw new UserError(`${o.nodeName}: could not count the commit records past the fork ${fork} (pg_waldump): ${JSON.stringify(n)}`);
  }
  return facts;
}

/** Rejoin the inventory's standby (the old primary) to the inventory's primary. See the header for the contract. */
export async function rejoinStandby(o: RejoinOptions): Promise<RejoinResult> {
  const t0 = Date.now();
  const log = o.log ?? (() => undefined);
  const inv = o.inventory;
  const primary = inv.nodes.find((n) => n.name === inv.primary);
  const node = inv.nodes.find((n) => n.name === inv.standby);
  if (!primary || !node)
    throw new UserError(
      `The stack's inventory names primary ${JSON.stringify(inv.primary)} and standby ${JSON.stringify(inv.standby)}, which are not both nodes of it: record the failover first (npm run failover).`,
    );
  const step = (s: string) => log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${s}`);
  const summary: string[] = [];
  const px = await o.connect(primary);
  const nx = await o.connect(node);
  try {
    const facts = await observeRejoinFacts({ px, nx, primary, nodeName: node.name, force: !!o.force, step });
    const decision = decideRejoin(facts);
    if (!decision.ok) throw new UserError(`Not rejoining ${node.name} to ${primary.name}: ${decision.reason}.`);
    summary.push(`${node.name}: ${decision.method} — ${decision.reason}`);
    step(`plan: ${decision.method} (${decision.reason})`);
    if (o.dryRun)
      return {
        node: node.name,
        primary: primary.name,
        method: decision.method,
        reason: decision.reason,
        done: false,
        seconds: (Date.now() - t0) / 1000,
        summary,
      };
    if (decision.method !== "already") {
      const destructive =
        decision.method === "follow"
          ? "restart its PostgreSQL as a standby"
          : decision.method === "rewind"
            ? "stop its PostgreSQL and pg_rewind its data directory"
            : "replace its data directory with a fresh base backup (the old one kept beside it)";
      if (!(await o.confirm(`Rejoin ${node.name} as the standby of ${primary.name}: ${destructive}?`)))
        throw new UserError("Rejoin cancelled: nothing was changed.");
      step(`${primary.name}: replication slot ${DB.slot}, pg_rewind's read rights for ${DB.replicationUser}`);
      await must(px, preparePrimary(), "preparing the primary", DEFAULT_TIMEOUT_MS);
      step(`${node.name}: ${decision.method}`);
      const applied = keyValues(
        await must(nx, applyRejoin(decision.method, primary.privateAddress), `rejoin (${decision.method})`, 30 * 60_000),
      );
      if (applied.method !== decision.method)
        summary.push(`${node.name}: pg_rewind failed, used a fresh base backup instead (old data directory kept beside it)`);
    }
    step(`${node.name}: streaming from ${primary.name}?`);
    await must(
      nx,
      waitStreaming(primary.privateAddress, Math.round((o.streamTimeoutMs ?? 120_000) / 1000)),
      "waiting for streaming",
      DEFAULT_TIMEOUT_MS,
    );
    if (o.converge) {
      step(`bootstrap ${primary.name} and ${node.name} with their roles (share replication ${primary.name} → ${node.name}, Redis replica)`);
      const c = await o.converge(inv, [primary.name, node.name]);
      if (!c.ok) throw new UserError(`${node.name} streams from ${primary.name}, but the bootstrap of the pair failed:\n${c.text}`);
    }
    const sync = keyValues(
      await must(px, restoreSynchronous(o.noStandbyOverride), "restoring synchronous replication", DEFAULT_TIMEOUT_MS),
    );
    summary.push(`${primary.name}: synchronous_standby_names = '${sync.sync_names ?? ""}'`);
    step(`done: ${node.name} is the standby of ${primary.name}`);
    return {
      node: node.name,
      primary: primary.name,
      method: decision.method,
      reason: decision.reason,
      done: true,
      seconds: (Date.now() - t0) / 1000,
      summary,
    };
  } finally {
    await px.close();
    await nx.close();
  }
}
