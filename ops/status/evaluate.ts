/**
 * What needs a human, from the gathered facts. Pure: the thresholds are data, every finding names the node,
 * what is wrong and, where there is one, the next step.
 */
import type { CertificateFacts, ClusterStatus, Finding, NodeStatus, RecordStatus } from "./types";

export interface Thresholds {
  /** A filesystem at or above this use is a problem. Defaults to 90. */
  diskProblemPercent: number;
  /** At or above this, a note. Defaults to 80. */
  diskNotePercent: number;
  /** A certificate with fewer days left is a problem (renewal starts at 1/3 of the lifetime left). Defaults to 14. */
  certificateProblemDays: number;
  /** WAL not yet replayed on the standby beyond this is a problem. Defaults to 64 MiB. */
  replicationLagBytes: number;
  /** Replay lag beyond this is a problem. Defaults to 30 s. */
  replayLagSeconds: number;
  /**
   * lsyncd rewrites its status file when its queue changes (at most every 10 s), not while idle: changes queued
   * and a status older than this means the copy is stuck. Defaults to 120 s.
   */
  shareStuckSeconds: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  diskProblemPercent: 90,
  diskNotePercent: 80,
  certificateProblemDays: 14,
  replicationLagBytes: 64 * 1024 * 1024,
  replayLagSeconds: 30,
  shareStuckSeconds: 120,
};

type Add = (severity: Finding["severity"], subject: string, message: string) => void;

function nodeFindings(n: NodeStatus, t: Thresholds, add: Add): void {
  if (!n.reachable) {
    add("problem", n.name, n.error ?? "unreachable over SSH");
    return;
  }
  if (n.system !== "running")
    add(
      "problem",
      n.name,
      `systemd is ${n.system}${n.failedUnits.length ? `; failed units: ${n.failedUnits.join(", ")} (journalctl -u <unit> on the node)` : ""}`,
    );
  for (const s of n.services) if (s.state !== "active") add("problem", n.name, `${s.unit} is ${s.state}`);
  for (const d of n.disks) {
    if (d.usedPercent >= t.diskProblemPercent) add("problem", n.name, `${d.mount} is ${d.usedPercent}% full`);
    else if (d.usedPercent >= t.diskNotePercent) add("note", n.name, `${d.mount} is ${d.usedPercent}% full`);
  }
}

function databaseFindings(s: ClusterStatus, t: Thresholds, add: Add): void {
  const primary = s.nodes.find((n) => n.name === s.primary);
  const standby = s.nodes.find((n) => n.name === s.standby);
  if (primary?.reachable) {
    const pg = primary.postgres;
    if (pg?.mode !== "primary")
      add(
        "problem",
        primary.name,
        `the recorded primary's PostgreSQL is ${pg ? pg.mode : "not answering"}${pg?.error ? ` (${pg.error})` : ""}: see docs/failover.md`,
      );
    else {
      const row = pg.replicas[0];
      if (!row)
        add(
          "problem",
          primary.name,
          `no standby is streaming from the primary${s.syncReplication === "strict" ? " (strict synchronous replication: commits wait)" : ""}`,
        );
      else {
        if (row.state !== "streaming") add("problem", primary.name, `the standby's replication is ${row.state}, not streaming`);
        if (row.syncState !== "sync")
          add(
            "problem",
            primary.name,
            `replication is ${row.syncState}, not sync: commits are not on the standby before they are acknowledged`,
          );
        if (row.lagBytes !== null && row.lagBytes > t.replicationLagBytes)
          add("problem", primary.name, `the standby is ${row.lagBytes} bytes of WAL behind`);
        if (row.replayLagSeconds !== null && row.replayLagSeconds > t.replayLagSeconds)
          add("problem", primary.name, `the standby replays ${row.replayLagSeconds.toFixed(1)} s behind`);
      }
    }
    shareFindings(primary, t, add);
  }
  if (standby?.reachable && standby.postgres?.mode !== "standby") {
    add(
      "problem",
      standby.name,
      `the recorded standby's PostgreSQL is ${standby.postgres?.mode ?? "not answering"}${standby.postgres?.error ? ` (${standby.postgres.error})` : ""}`,
    );
  }
}

function shareFindings(primary: NodeStatus, t: Thresholds, add: Add): void {
  const sync = primary.shareSync;
  if (!sync) add("problem", primary.name, "the share's copy to the standby (lsyncd) has never written its status");
  else if (sync.pendingChanges && sync.statusAgeSeconds !== null && sync.statusAgeSeconds > t.shareStuckSeconds)
    add(
      "problem",
      primary.name,
      `lsyncd has held ${sync.pendingChanges} changes for ${sync.statusAgeSeconds} s: the share's copy to the standby is stuck (journalctl -u django-ha-share-sync)`,
    );
}

function certificateFindings(n: NodeStatus, now: Date, t: Thresholds, add: Add): void {
  const c = n.certificate;
  if (!c) return;
  if ("error" in c) {
    add("problem", n.name, `certificate: ${c.error}`);
    return;
  }
  const days = daysLeft(c, now);
  if (days <= 0) add("problem", n.name, `the certificate ${c.path} expired at ${c.notAfter}`);
  else if (days < t.certificateProblemDays)
    add("problem", n.name, `the certificate ${c.path} expires in ${days.toFixed(1)} days (${c.notAfter}): renewal is not happening`);
  if (c.placeholder) add("note", n.name, `serves the self-signed placeholder certificate (${c.path}): no ACME certificate yet`);
}

/** Days until notAfter (fractional; negative once expired). */
export function daysLeft(c: CertificateFacts, now: Date): number {
  return (Date.parse(c.notAfter) - now.getTime()) / 86_400_000;
}

/** Children whose health endpoint answered 200. */
export function liveChildren(nodes: NodeStatus[]): NodeStatus[] {
  return nodes.filter((n) => n.role === "child" && n.reachable && n.health?.httpStatus === 200);
}

function recordFindings(record: RecordStatus, nodes: NodeStatus[], add: Add): void {
  const children = nodes.filter((n) => n.role === "child");
  for (const c of children) {
    if (c.reachable && c.health && c.health.httpStatus !== 200)
      add("problem", c.name, `/health/ answers ${c.health.httpStatus || "nothing"}${c.health.error ? ` (${c.health.error})` : ""}`);
  }
  if (!record.members) {
    add("problem", "cluster", `cannot read the record ${record.fqdn}: ${record.error ?? "unknown error"}`);
    return;
  }
  const live = new Set(liveChildren(nodes).map((n) => n.address));
  const inRecord = new Set(record.members.map((m) => m.address));
  if (record.members.length === 0) add("problem", "cluster", `the record ${record.fqdn} has no members: the site does not resolve`);
  for (const m of record.members) {
    const node = nodes.find((n) => n.address === m.address);
    if (!node || node.role !== "child") add("problem", "cluster", `the record lists ${m.address}, which is not a child of this cluster`);
    else if (!live.has(m.address))
      add("problem", "cluster", `the record lists ${node.name} (${m.address}), which is not live: visitors sent there fail`);
  }
  for (const c of children)
    if (live.has(c.address) && !inRecord.has(c.address)) add("note", "cluster", `${c.name} is live but not in the record`);
}

/** Every finding about a cluster, problems first. Pure. */
export function evaluate(s: Omit<ClusterStatus, "findings" | "healthy">, now: Date, t: Thresholds = DEFAULT_THRESHOLDS): Finding[] {
  const findings: Finding[] = [];
  const add: Add = (severity, subject, message) => findings.push({ severity, subject, message });
  for (const n of s.nodes) nodeFindings(n, t, add);
  databaseFindings({ ...s, findings: [], healthy: true }, t, add);
  recordFindings(s.record, s.nodes, add);
  for (const n of s.nodes) certificateFindings(n, now, t, add);
  return [...findings.filter((f) => f.severity === "problem"), ...findings.filter((f) => f.severity === "note")];
}

/** The status with its findings: healthy when nothing needs a human. Pure. */
export function withFindings(s: Omit<ClusterStatus, "findings" | "healthy">, now: Date, t: Thresholds = DEFAULT_THRESHOLDS): ClusterStatus {
  const findings = evaluate(s, now, t);
  return { ...s, findings, healthy: !findings.some((f) => f.severity === "problem") };
}
