/** The one screen `npm run status` prints, and its JSON. Pure: text from a ClusterStatus. */
import { daysLeft, liveChildren } from "./evaluate";
import type { ClusterStatus, NodeStatus } from "./types";

/** 1536 → "1.5 KiB". */
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c])))
      .join("  ")
      .trimEnd(),
  );
}

function servicesCell(n: NodeStatus): string {
  if (!n.reachable) return "-";
  const down = n.services.filter((s) => s.state !== "active");
  return down.length
    ? down.map((s) => `${s.unit.replace(/\.service$/, "")} ${s.state}`).join(", ")
    : `${n.services.length}/${n.services.length} active`;
}

function nodeRows(s: ClusterStatus): string[] {
  const rows = [["NODE", "ROLE", "ADDRESS", "SSH", "SYSTEM", "SERVICES", "DISK USE"]];
  for (const n of s.nodes) {
    const role = n.name === s.primary ? "primary" : n.name === s.standby ? "standby" : n.role;
    rows.push([
      n.name,
      role,
      n.address,
      n.reachable ? "ok" : "DOWN",
      n.system ?? "-",
      servicesCell(n),
      n.disks.map((d) => `${d.mount} ${d.usedPercent}%`).join("  ") || "-",
    ]);
  }
  return table(rows);
}

function databaseLine(s: ClusterStatus): string {
  const primary = s.nodes.find((n) => n.name === s.primary);
  const standby = s.nodes.find((n) => n.name === s.standby);
  const head = `Database      primary ${s.primary} → standby ${s.standby} (policy ${s.syncReplication}):`;
  if (!primary?.reachable) return `${head} primary unreachable`;
  const pg = primary.postgres;
  if (pg?.mode !== "primary") return `${head} primary's PostgreSQL is ${pg?.mode ?? "unknown"}`;
  const row = pg.replicas[0];
  if (!row) return `${head} no standby streaming`;
  const lag = row.lagBytes === null ? "lag ?" : `lag ${bytes(row.lagBytes)}`;
  const replay = row.replayLagSeconds === null ? "replay lag idle" : `replay lag ${row.replayLagSeconds.toFixed(3)} s`;
  const lastReplay = standby?.postgres?.lastReplaySeconds;
  return `${head} ${row.state}, ${row.syncState}, ${lag}, ${replay}${lastReplay !== undefined && lastReplay >= 0 ? `, last commit replayed ${lastReplay} s ago` : ""}`;
}

function shareLine(s: ClusterStatus): string {
  const sync = s.nodes.find((n) => n.name === s.primary)?.shareSync;
  if (!sync) return "Share copy    unknown (no lsyncd status on the primary)";
  const pending =
    sync.pendingChanges === null
      ? "? changes queued"
      : sync.pendingChanges === 0
        ? "in step (nothing queued)"
        : `${sync.pendingChanges} changes queued`;
  return `Share copy    ${s.primary} → ${s.standby} (lsyncd): ${pending}, queue last changed ${sync.statusAgeSeconds ?? "?"} s ago`;
}

function recordLines(s: ClusterStatus): string[] {
  const live = liveChildren(s.nodes).map((n) => n.name);
  const members = s.record.members
    ? s.record.members.map((m) => `${m.name === m.address ? m.address : `${m.name} ${m.address}`}`).join(", ") || "(empty)"
    : `unreadable: ${s.record.error ?? "?"}`;
  return [`Record        ${s.record.fqdn}: ${members}`, `Live children ${live.join(", ") || "(none)"}`];
}

function certificateLines(s: ClusterStatus, now: Date): string[] {
  return s.nodes
    .flatMap((n) => (n.certificate ? [{ n, c: n.certificate }] : []))
    .map(({ n, c }) => {
      if ("error" in c) return `Certificate   ${n.name}: ${c.error}`;
      return `Certificate   ${n.name}: expires ${c.notAfter.slice(0, 10)} (${Math.floor(daysLeft(c, now))} days)${c.placeholder ? ", self-signed placeholder" : ""}  ${c.path}`;
    });
}

function agentLines(s: ClusterStatus): string[] {
  const log = s.nodes.find((n) => n.name === s.primary)?.agentLog;
  if (log === undefined) return ["Health agent  unknown (primary unreachable)"];
  if (log === null) return ["Health agent  no agent"];
  return log.length ? ["Health agent  last changes:", ...log.map((l) => `  ${l}`)] : ["Health agent  no changes logged"];
}

/** The screen. Pure. */
export function renderStatus(s: ClusterStatus, now = new Date(s.takenAt)): string {
  const problems = s.findings.filter((f) => f.severity === "problem");
  const notes = s.findings.filter((f) => f.severity === "note");
  const verdict = s.healthy ? "HEALTHY" : `NEEDS A HUMAN (${problems.length} problem${problems.length === 1 ? "" : "s"})`;
  const lines = [
    `django-ha status of stack ${s.stack} (cluster ${s.cluster}) at ${s.takenAt}: ${verdict}`,
    "",
    ...nodeRows(s),
    "",
    databaseLine(s),
    shareLine(s),
    ...recordLines(s),
    ...certificateLines(s, now),
    ...agentLines(s),
  ];
  if (problems.length) lines.push("", "Needs a human:", ...problems.map((f) => `  ✗ ${f.subject}: ${f.message}`));
  if (notes.length) lines.push("", "Notes:", ...notes.map((f) => `  · ${f.subject}: ${f.message}`));
  return `${lines.join("\n")}\n`;
}

/** The `--json` output. */
export function statusJson(s: ClusterStatus): string {
  return `${JSON.stringify(s, null, 2)}\n`;
}
