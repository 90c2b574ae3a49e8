/**
 * The agent's memory, `<store>/acme/state.json` on the share (so it follows the primary across a
 * failover): the served certificate, ARI window and the time chosen in it, failures and backoff, and the
 * last 10 events. Times are ISO strings so an operator can read the file.
 */
import * as path from "node:path";
import { z } from "zod";
import { type Backoff, backoffSeconds } from "./backoff";
import type { CertInfo } from "./cert";
import { readIfExists, writeFileAtomic, type Owner } from "./files";

const isoTime = z.iso.datetime({ offset: true });
const window = z.object({ start: isoTime, end: isoTime });

export const HISTORY_LENGTH = 10;

export const stateSchema = z.object({
  version: z.literal(1),
  serial: z.string().optional(),
  certId: z.string().optional(),
  names: z.array(z.string()).optional(),
  notBefore: isoTime.optional(),
  notAfter: isoTime.optional(),
  /** The CA's suggested window for `serial`, and when to ask again. */
  ari: z.object({ serial: z.string(), window: window.optional(), nextPollAt: isoTime, explanationURL: z.string().optional() }).optional(),
  /** The renewal time picked, and the ARI window it was picked in (none without ARI). */
  chosen: z.object({ at: isoTime, window: window.optional() }).optional(),
  failures: z.number().int().min(0),
  nextAttemptAt: isoTime.optional(),
  lastError: z.string().optional(),
  lastRenewedAt: isoTime.optional(),
  revokedSerial: z.string().optional(),
  /** The certificate ordered because the one before did not chain to a trusted root: never renewed again for that. */
  untrustedReplacementSerial: z.string().optional(),
  /** The directory that issued it: another directory (staging → production) is judged afresh. */
  untrustedReplacementDirectory: z.string().optional(),
  accountUrl: z.string().optional(),
  history: z.array(z.object({ at: isoTime, event: z.string(), detail: z.string() })),
});

export type AgentState = z.infer<typeof stateSchema>;

export const emptyState = (): AgentState => ({ version: 1, failures: 0, history: [] });

export const statePath = (store: string) => path.join(store, "acme", "state.json");

/** The state on the share; an empty one when there is none; an error naming the file when it is damaged. */
export function readState(store: string): AgentState {
  const file = statePath(store);
  const text = readIfExists(file);
  if (text === undefined) return emptyState();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `${file} is not JSON (${(e as Error).message}): move it aside; the next run starts a fresh state and keeps the certificate`,
    );
  }
  const parsed = stateSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `${file} is not a state this agent wrote (${parsed.error.issues[0]?.message ?? "invalid"}): move it aside; the next run starts fresh`,
    );
  return parsed.data;
}

export function writeState(store: string, state: AgentState, owner?: Owner): void {
  writeFileAtomic(statePath(store), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o640, owner });
}

/** The state with one more event, keeping the last HISTORY_LENGTH. Pure. */
export function withEvent(state: AgentState, at: number, event: string, detail: string): AgentState {
  return { ...state, history: [...state.history, { at: new Date(at).toISOString(), event, detail }].slice(-HISTORY_LENGTH) };
}

/** After a failed order: one more failure, the next attempt pushed out by the backoff, the reason kept. Pure. */
export function recordFailure(state: AgentState, now: number, reason: string, backoff: Backoff): AgentState {
  const failures = state.failures + 1;
  const next = now + backoffSeconds(failures, backoff) * 1000;
  const s = { ...state, failures, nextAttemptAt: new Date(next).toISOString(), lastError: reason };
  return withEvent(s, now, "failed", `${reason} (attempt ${failures}; next not before ${new Date(next).toISOString()})`);
}

/**
 * An operator's retry: the wait after failed orders is lifted, so the next run orders at once if one is due. The
 * failures stay counted (a further failure backs off longer). The same state when there is no wait. Pure.
 */
export function withoutBackoff(state: AgentState, now: number): AgentState {
  if (state.nextAttemptAt === undefined) return state;
  return withEvent(
    { ...state, nextAttemptAt: undefined },
    now,
    "retry",
    `the wait until ${state.nextAttemptAt} after ${state.failures} failed attempt(s) lifted by an operator`,
  );
}

/** After a certificate was written: the new certificate's facts, failures cleared, the old choice dropped. Pure. */
export function recordSuccess(state: AgentState, now: number, cert: CertInfo, detail: string): AgentState {
  const s: AgentState = {
    ...state,
    serial: cert.serial,
    certId: cert.certId,
    names: cert.names,
    notBefore: new Date(cert.notBefore).toISOString(),
    notAfter: new Date(cert.notAfter).toISOString(),
    ari: undefined,
    chosen: undefined,
    failures: 0,
    nextAttemptAt: undefined,
    lastError: undefined,
    lastRenewedAt: new Date(now).toISOString(),
  };
  return withEvent(s, now, "issued", detail);
}
