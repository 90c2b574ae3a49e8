/**
 * What a drill's load client recorded, and what it means: every request with its time, target child and
 * outcome, and the figures a failover is judged by (first failure, first success after it, longest write
 * outage, read availability over a window). Pure: the load client (test/drill/client.ts) produces samples,
 * the lab tests and bench/failover.bench.ts analyse them here.
 */

export type SampleKind = "write" | "read";

/** One request of the load client. Times are milliseconds since the epoch (one clock: the lab host's). */
export interface Sample {
  kind: SampleKind;
  /** Per-kind sequence number, in the order the requests were started. */
  seq: number;
  /** Writes: the unique note text the request wrote (what the verifier looks for on PostgreSQL). */
  id?: string;
  /** The child's address the request went to (as resolved through the round-robin name). */
  target: string;
  start: number;
  end: number;
  /** Acknowledged: the app answered success (201 with the note's id for a write, 200 with the list for a read). */
  ok: boolean;
  /** HTTP status; 0 when no HTTP answer came (refused, reset, timed out). */
  status: number;
  /** Why it failed (an HTTP status line or the socket error); absent when ok. */
  error?: string;
}

/** An interval during which every request of a kind failed: from the first failed request's start to the first success's end. */
export interface Outage {
  from: number;
  /** Undefined: nothing succeeded again before the load stopped. */
  to?: number;
  /** Requests that failed during it. */
  failed: number;
}

export interface WindowAvailability {
  from: number;
  to: number;
  total: number;
  ok: number;
  /** ok / total; NaN when no request started in the window. */
  ratio: number;
}

export function latencyMs(s: Sample): number {
  return s.end - s.start;
}

function ofKind(samples: readonly Sample[], kind: SampleKind): Sample[] {
  return samples.filter((s) => s.kind === kind).sort((a, b) => a.start - b.start || a.seq - b.seq);
}

/** The note ids the app acknowledged: exactly these must survive a failover. */
export function ackedIds(samples: readonly Sample[]): string[] {
  return ofKind(samples, "write")
    .filter((s) => s.ok)
    .map((s) => {
      if (!s.id) throw new Error(`write #${s.seq} was acknowledged but carries no id`);
      return s.id;
    });
}

/** The first request of `kind` that started at or after `after` and failed. */
export function firstFailure(samples: readonly Sample[], kind: SampleKind, after = -Infinity): Sample | undefined {
  return ofKind(samples, kind).find((s) => !s.ok && s.start >= after);
}

/** Of the requests of `kind` that started at or after `after`, the successful one that finished first. */
export function firstSuccessAfter(samples: readonly Sample[], kind: SampleKind, after: number): Sample | undefined {
  let best: Sample | undefined;
  for (const s of ofKind(samples, kind)) if (s.ok && s.start >= after && (!best || s.end < best.end)) best = s;
  return best;
}

/**
 * Runs of failures in start order: an outage opens at the start of a failed request and closes at the end of
 * the first later-started request that succeeded. Concurrent requests are judged by when they started, as a
 * user experiences them: a request started during the outage that failed extends it.
 */
export function outages(samples: readonly Sample[], kind: SampleKind): Outage[] {
  const found: Outage[] = [];
  let open: Outage | undefined;
  for (const s of ofKind(samples, kind)) {
    if (!s.ok) {
      if (open) open.failed++;
      else open = { from: s.start, failed: 1 };
    } else if (open) {
      open.to = s.end;
      found.push(open);
      open = undefined;
    }
  }
  if (open) found.push(open);
  return found;
}

export function outageMs(o: Outage, endOfRun: number): number {
  return (o.to ?? endOfRun) - o.from;
}

/** The longest outage of a kind (an unfinished one counts until `endOfRun`). */
export function longestOutage(samples: readonly Sample[], kind: SampleKind, endOfRun: number): Outage | undefined {
  let longest: Outage | undefined;
  for (const o of outages(samples, kind)) if (!longest || outageMs(o, endOfRun) > outageMs(longest, endOfRun)) longest = o;
  return longest;
}

/** Share of the requests of `kind` started in [from, to) that succeeded. */
export function availability(samples: readonly Sample[], kind: SampleKind, from: number, to: number): WindowAvailability {
  const inWindow = ofKind(samples, kind).filter((s) => s.start >= from && s.start < to);
  const ok = inWindow.filter((s) => s.ok).length;
  return { from, to, total: inWindow.length, ok, ratio: inWindow.length ? ok / inWindow.length : NaN };
}

export interface DrillFigures {
  writes: { sent: number; acked: number; failed: number };
  reads: { sent: number; ok: number; failed: number };
  /** The first failed write at or after `since`. */
  firstWriteFailure?: Sample;
  /** The first successful write started after that failure (absent: none yet). */
  firstWriteAfterFailure?: Sample;
  longestWriteOutage?: Outage;
  longestWriteOutageMs?: number;
  longestReadOutageMs?: number;
  /** Reads in [since, first successful write after the failure) — "while the primary was away". */
  readsDuringOutage?: WindowAvailability;
  /** Per target child: requests and failures (both kinds). */
  byTarget: Record<string, { total: number; failed: number }>;
}

/** The figures of one drill. `since`: the event the drill provoked (power off, script start); defaults to the first sample. */
export function drillFigures(samples: readonly Sample[], opts: { since?: number; endOfRun?: number } = {}): DrillFigures {
  const writes = ofKind(samples, "write");
  const reads = ofKind(samples, "read");
  const endOfRun = opts.endOfRun ?? Math.max(0, ...samples.map((s) => s.end));
  const since = opts.since ?? -Infinity;
  const firstWriteFailure = firstFailure(samples, "write", since);
  const firstWriteAfterFailure = firstWriteFailure ? firstSuccessAfter(samples, "write", firstWriteFailure.start) : undefined;
  const longestWriteOutage = longestOutage(samples, "write", endOfRun);
  const longestReadOutage = longestOutage(samples, "read", endOfRun);
  const byTarget: DrillFigures["byTarget"] = {};
  for (const s of samples) {
    const t = (byTarget[s.target] ??= { total: 0, failed: 0 });
    t.total++;
    if (!s.ok) t.failed++;
  }
  const outageFrom = firstWriteFailure?.start;
  return {
    writes: { sent: writes.length, acked: writes.filter((s) => s.ok).length, failed: writes.filter((s) => !s.ok).length },
    reads: { sent: reads.length, ok: reads.filter((s) => s.ok).length, failed: reads.filter((s) => !s.ok).length },
    firstWriteFailure,
    firstWriteAfterFailure,
    longestWriteOutage,
    longestWriteOutageMs: longestWriteOutage && outageMs(longestWriteOutage, endOfRun),
    longestReadOutageMs: longestReadOutage && outageMs(longestReadOutage, endOfRun),
    readsDuringOutage:
      outageFrom === undefined ? undefined : availability(samples, "read", outageFrom, firstWriteAfterFailure?.end ?? endOfRun),
    byTarget,
  };
}

/** One line per request, for a failing drill's message or a bench's log: `+12.345 s write 10.231.0.21 ok 201 23 ms id`. */
export function formatTimeline(samples: readonly Sample[], origin = Math.min(...samples.map((s) => s.start))): string {
  return [...samples]
    .sort((a, b) => a.start - b.start)
    .map((s) => {
      const offset = (s.start - origin) / 1000;
      const at = `${offset < 0 ? "-" : "+"}${Math.abs(offset).toFixed(3)} s`;
      const outcome = s.ok ? `ok ${s.status}` : `FAIL ${s.error ?? s.status}`;
      return `${at.padStart(11)} ${s.kind.padEnd(5)} ${s.target.padEnd(15)} ${outcome} ${latencyMs(s)} ms${s.id ? ` ${s.id}` : ""}`;
    })
    .join("\n");
}
