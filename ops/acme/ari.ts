/**
 * ACME Renewal Information (RFC 9773): where to ask, how to read the answer, when to ask again. Pure.
 * The GET itself is unauthenticated (acme.ts sends it).
 */
import { z } from "zod";
import type { Window } from "./schedule";

/** `<renewalInfo>/<certID>` (RFC 9773 §4.1: the certID is appended as a path segment). */
export function renewalInfoUrl(renewalInfo: string, certId: string): string {
  return `${renewalInfo.replace(/\/+$/, "")}/${certId}`;
}

const renewalInfoSchema = z.object({
  suggestedWindow: z.object({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) }),
  explanationURL: z.string().optional(),
});

/** The suggested window from a renewalInfo body; throws when it is malformed or ends before it starts. */
export function parseRenewalInfo(body: unknown): { window: Window; explanationURL?: string } {
  const parsed = renewalInfoSchema.safeParse(body);
  if (!parsed.success)
    throw new Error(`renewalInfo answer is not { suggestedWindow: { start, end } }: ${JSON.stringify(body).slice(0, 200)}`);
  const start = Date.parse(parsed.data.suggestedWindow.start);
  const end = Date.parse(parsed.data.suggestedWindow.end);
  if (!(end > start))
    throw new Error(`renewalInfo window ends (${parsed.data.suggestedWindow.end}) before it starts (${parsed.data.suggestedWindow.start})`);
  return { window: { start, end }, explanationURL: parsed.data.explanationURL };
}

/** Polling bounds: never more often than a minute, at least daily; 6 h when the CA sends no Retry-After. */
export const ARI_POLL = { minSeconds: 60, maxSeconds: 86400, defaultSeconds: 21600 };

/** When to ask again, from a Retry-After header (seconds or HTTP date), clamped to ARI_POLL. */
export function nextAriPoll(retryAfter: string | undefined, now: number): number {
  let seconds = ARI_POLL.defaultSeconds;
  if (retryAfter !== undefined && retryAfter.trim() !== "") {
    const n = Number(retryAfter);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(n)) seconds = n;
    else if (!Number.isNaN(date)) seconds = (date - now) / 1000;
  }
  return now + Math.min(ARI_POLL.maxSeconds, Math.max(ARI_POLL.minSeconds, seconds)) * 1000;
}
