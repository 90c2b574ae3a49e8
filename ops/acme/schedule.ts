/**
 * When to order: the pure renewal decision. ARI (RFC 9773) where the CA offers it: a uniformly random time
 * in the suggested window, kept while the window stays the same, never later than when 1/6 of the lifetime
 * is left. Without ARI: when 1/3 of the lifetime is left. Both scale with the lifetime, so 90-, 64-, 45-day
 * and 6-day certificates all renew in time (a fixed "30 days before expiry" would renew a 45-day
 * certificate after two weeks and a 6-day one in a loop).
 */
export interface Window {
  /** Epoch ms. */
  start: number;
  end: number;
}

export interface ScheduleInput {
  /** The served certificate's validity (epoch ms); undefined when there is none yet. */
  cert?: { notBefore: number; notAfter: number };
  /** The certificate lists exactly the configured names. */
  namesMatch: boolean;
  /** The certificate was revoked (`django-ha-acme revoke`). */
  revoked: boolean;
  /**
   * The served chain does not lead to a root this machine trusts (the CA reset its root, as the lab's pebble does
   * at every start, or a root was distrusted), and it is not itself the replacement ordered for that reason: a CA
   * no trust store knows (Let's Encrypt staging, a private CA) gets one such order, never a loop.
   */
  untrusted?: boolean;
  /** The CA's suggested window for this certificate; undefined when the CA has no ARI or did not answer. */
  ari?: Window;
  /** The time picked earlier, and the window it was picked in. */
  chosen?: { at: number; window?: Window };
  failures: number;
  /** Epoch ms before which no new attempt is made after a failure. */
  nextAttemptAt?: number;
  /** `renew --force`: the operator asks for an order now. */
  force: boolean;
  now: number;
  /** Uniform in [0, 1): the draw for the time in the ARI window. */
  random: number;
}

export type Decision =
  | { action: "renew"; reason: string; chosen?: { at: number; window?: Window } }
  | { action: "wait"; until: number; reason: string; chosen?: { at: number; window?: Window } };

const iso = (ms: number) => new Date(ms).toISOString();
const sameWindow = (a: Window | undefined, b: Window) => a !== undefined && a.start === b.start && a.end === b.end;

/** The renewal time for a certificate, with its reason (pure). */
export function renewalTime(
  cert: { notBefore: number; notAfter: number },
  ari: Window | undefined,
  chosen: ScheduleInput["chosen"],
  random: number,
): { at: number; reason: string; chosen: { at: number; window?: Window } } {
  const lifetime = cert.notAfter - cert.notBefore;
  const latest = cert.notAfter - lifetime / 6;
  if (!ari) {
    const at = cert.notAfter - lifetime / 3;
    return { at, reason: `a third of the lifetime left at ${iso(at)} (no ARI)`, chosen: { at } };
  }
  const picked =
    chosen && sameWindow(chosen.window, ari) ? chosen.at : ari.start + Math.min(Math.max(random, 0), 1) * (ari.end - ari.start);
  const at = Math.min(picked, latest);
  const capped = at < picked ? `, capped at a sixth of the lifetime left` : "";
  return { at, reason: `ARI window ${iso(ari.start)}..${iso(ari.end)}, chose ${iso(at)}${capped}`, chosen: { at: picked, window: ari } };
}

/** Renew now, or wait until when and why (pure). */
export function decide(i: ScheduleInput): Decision {
  if (i.force) return { action: "renew", reason: "forced (renew --force)", chosen: i.chosen };
  if (i.failures > 0 && i.nextAttemptAt !== undefined && i.nextAttemptAt > i.now) {
    return {
      action: "wait",
      until: i.nextAttemptAt,
      reason: `backing off after ${i.failures} failed attempt(s) until ${iso(i.nextAttemptAt)}`,
      chosen: i.chosen,
    };
  }
  if (!i.cert) return { action: "renew", reason: "no certificate yet" };
  if (i.revoked) return { action: "renew", reason: "the current certificate was revoked" };
  if (!i.namesMatch) return { action: "renew", reason: "the certificate's names differ from the configured names" };
  if (i.untrusted) return { action: "renew", reason: "the served chain does not lead to a root this machine trusts" };
  const t = renewalTime(i.cert, i.ari, i.chosen, i.random);
  if (i.now >= t.at) return { action: "renew", reason: `due: ${t.reason}`, chosen: t.chosen };
  return { action: "wait", until: t.at, reason: t.reason, chosen: t.chosen };
}
