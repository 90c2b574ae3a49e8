/** `django-ha-acme status`: what is served, when it renews and why, what failed. Read-only, no CA contact. Pure. */
import type { CertInfo } from "./cert";
import type { AgentConfig } from "./config";
import { decisionFor } from "./run";
import type { AgentState } from "./state";

export interface StatusReport {
  certName: string;
  names: string[];
  directoryUrl: string;
  challenge: string;
  profile?: string;
  certificate?: { serial: string; names: string[]; notBefore: string; notAfter: string; daysLeft: number; certId?: string };
  ari?: { window?: { start: string; end: string }; nextPollAt: string };
  next: { action: "renew" | "wait"; at: string; reason: string };
  failures: number;
  nextAttemptAt?: string;
  lastError?: string;
  lastRenewedAt?: string;
  history: AgentState["history"];
}

export function statusReport(config: AgentConfig, state: AgentState, served: CertInfo | undefined, now: number): StatusReport {
  // random 0.5 only matters before a time was chosen in a window; the run stores its own draw.
  const d = decisionFor(state, served, config, { now, random: 0.5, force: false });
  return {
    certName: config.certName,
    names: config.names,
    directoryUrl: config.directoryUrl,
    challenge: config.challenge,
    profile: config.profile,
    certificate: served && {
      serial: served.serial,
      names: served.names,
      notBefore: new Date(served.notBefore).toISOString(),
      notAfter: new Date(served.notAfter).toISOString(),
      daysLeft: Math.round(((served.notAfter - now) / 86400_000) * 10) / 10,
      certId: served.certId,
    },
    ari: served && state.ari?.serial === served.serial ? { window: state.ari.window, nextPollAt: state.ari.nextPollAt } : undefined,
    next: { action: d.action, at: new Date(d.action === "wait" ? d.until : now).toISOString(), reason: d.reason },
    failures: state.failures,
    nextAttemptAt: state.nextAttemptAt,
    lastError: state.lastError,
    lastRenewedAt: state.lastRenewedAt,
    history: state.history,
  };
}

export function formatStatus(r: StatusReport): string {
  const c = r.certificate;
  const lines = [
    `certificate ${r.certName} (${r.names.join(", ")}) from ${r.directoryUrl} by ${r.challenge}${r.profile ? `, profile ${r.profile}` : ""}`,
    c ? `  served:   serial ${c.serial}, ${c.notBefore} .. ${c.notAfter} (${c.daysLeft} days left)` : "  served:   none yet",
    r.ari
      ? `  ARI:      window ${r.ari.window ? `${r.ari.window.start} .. ${r.ari.window.end}` : "unknown"}, next poll ${r.ari.nextPollAt}`
      : "  ARI:      not used (the CA offers none, or no certificate yet)",
    `  next:     ${r.next.action === "renew" ? "renew at the next run" : `wait until ${r.next.at}`}: ${r.next.reason}`,
    `  failures: ${r.failures}${r.nextAttemptAt && r.failures > 0 ? `, next attempt not before ${r.nextAttemptAt}` : ""}${r.lastError ? `; last error: ${r.lastError}` : ""}`,
    `  renewed:  ${r.lastRenewedAt ?? "never"}`,
    ...(r.history.length > 0 ? ["  history:", ...r.history.map((h) => `    ${h.at} ${h.event}: ${h.detail}`)] : []),
  ];
  return `${lines.join("\n")}\n`;
}
