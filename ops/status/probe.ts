/**
 * The one read-only command `status` runs on each node, and the parser of what it prints. Pure: the program is
 * a fixed bash text that takes its data as positional arguments (like ops/bootstrap/commands.ts), and prints one
 * `<key>\t<value>` line per fact, so a missing tool or a stopped service shows up as a fact, never as a failure.
 */
import type { Role } from "../../model";
import { POSTGRES_UNIT } from "../../roles/db";
import { PATHS } from "../../roles/context";
import { PG_HOME } from "../../roles/volumes";
import { SHARE_SYNC_UNIT } from "../../roles/parent";
import { UWSGI_UNIT } from "../../roles/child";
import { CELERY_UNIT } from "../../roles/worker";
import { HEALTH_SERVICE } from "../../roles/health";
import type { Argv } from "../../roles/shell";
import type { CertificateFacts, DiskUse, HealthFacts, NodeStatus, PostgresFacts, ReplicaRow, ShareSyncFacts } from "./types";

/** lsyncd's status file on the database machines (roles/parent.ts). */
export const LSYNCD_STATUS_FILE = `${PATHS.stateDir}/lsyncd.status`;
/** The health agent's unit: its journal holds one line per record change. */
export const HEALTH_AGENT_UNIT = HEALTH_SERVICE;
/** Where children's nginx found its certificate before and after issue 10 (nginx -T names the one in use). */
export const CERTIFICATE_CANDIDATES = (fqdn: string) => ["/etc/django-ha/tls/fullchain.pem", `${PATHS.tls}/${fqdn}/fullchain.pem`];

/** The services each role runs (the bootstrap starts them; roles/*.ts). */
export function keyServices(role: Role): string[] {
  const common = ["ssh.service", "nftables.service"];
  switch (role) {
    case "parent":
      return [...common, `${POSTGRES_UNIT}.service`, "nfs-ganesha.service", "redis-server.service", SHARE_SYNC_UNIT];
    case "standby":
      return [...common, `${POSTGRES_UNIT}.service`, "redis-server.service"];
    case "child":
      return [...common, UWSGI_UNIT, "nginx.service"];
    case "worker":
      return [...common, CELERY_UNIT];
    default: {
      const never: never = role;
      throw new Error(`unknown role ${String(never)}`);
    }
  }
}

/** Filesystems worth watching: the data volumes on database machines, the root disk everywhere. */
export function dataMounts(role: Role): string[] {
  return role === "parent" || role === "standby" ? ["/", PG_HOME, PATHS.share] : ["/"];
}

const PROBE = `set -uo pipefail
kind=$1 fqdn=$2 lsyncd_status=$3 mounts=$4 agent=$5 candidates=$6; shift 6
emit() { printf '%s\\t%s\\n' "$1" "$2"; }
emit system "$(systemctl is-system-running 2>/dev/null)"
systemctl list-units --state=failed --no-legend --plain 2>/dev/null | while read -r unit _; do emit failed "$unit"; done
for unit in "$@"; do emit unit "$unit $(systemctl is-active "$unit" 2>/dev/null)"; done
IFS=, read -ra dirs <<<"$mounts"
for dir in "\${dirs[@]}"; do
  [ -d "$dir" ] && emit disk "$(df -B1 --output=target,size,used "$dir" | tail -n 1)"
done
pg() { timeout 10 runuser -u postgres -- psql -XAtq -F "$(printf '\\t')" -c "$1" 2>&1 | head -n 20; }
if [ "$kind" = db ]; then
  recovery=$(pg "select pg_is_in_recovery()")
  emit pg_recovery "\${recovery//$'\\n'/ }"
  if [ "$recovery" = f ]; then
    pg "select application_name, state, sync_state, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint::text, ''), coalesce(extract(epoch from replay_lag)::text, '') from pg_stat_replication" |
      while IFS= read -r row; do emit replica "$row"; done
  elif [ "$recovery" = t ]; then
    emit standby_lag "$(pg "select coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint, 0), coalesce(extract(epoch from now() - pg_last_xact_replay_timestamp())::bigint, -1)")"
  fi
  if [ -f "$lsyncd_status" ]; then
    emit lsyncd_age "$(( $(date +%s) - $(stat -c %Y "$lsyncd_status") ))"
    emit lsyncd_delays "$(grep -oE 'There (are|is) [0-9]+ delays?' "$lsyncd_status" | grep -oE '[0-9]+' | head -n 1)"
  fi
  if systemctl cat "$agent" >/dev/null 2>&1; then
    emit agent present
    # Installed (hosts, digitalocean): it must run on both database machines, or a dead child stays in the record.
    emit unit "$agent $(systemctl is-active "$agent" 2>/dev/null)"
    # The last changes of the record (and fail-open rounds), not the routine lines.
    journalctl -u "$agent" --since -7d --no-pager -o short-iso 2>/dev/null | grep -E ': (dry run: )?(removed |added back |every child)' | tail -n 5 | while IFS= read -r line; do emit agent_log "$line"; done
  fi
fi
if [ "$kind" = child ]; then
  cert=$(nginx -T 2>/dev/null | awk '$1 == "ssl_certificate" { sub(/;$/, "", $2); print $2; exit }')
  if [ -z "$cert" ]; then
    IFS=, read -ra files <<<"$candidates"
    for c in "\${files[@]}"; do [ -f "$c" ] && { cert=$c; break; }; done
  fi
  if [ -n "$cert" ] && [ -f "$cert" ]; then
    emit cert_path "$cert"
    emit cert_end "$(openssl x509 -enddate -noout -in "$cert" 2>&1 | sed 's/^notAfter=//')"
    emit cert_subject "$(openssl x509 -subject -noout -nameopt RFC2253 -in "$cert" 2>&1 | sed 's/^subject=//')"
    emit cert_selfsigned "$(openssl x509 -noout -subject_hash -issuer_hash -in "$cert" 2>/dev/null | uniq | wc -l)"
    # Liveness through the child's own nginx, trusting exactly the certificate it serves (never -k).
    out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 --resolve "$fqdn:443:127.0.0.1" --cacert "$cert" "https://$fqdn/health/" 2>&1)
    emit health "$out $?"
  else
    emit cert_missing "\${cert:-nginx -T names no ssl_certificate}"
  fi
fi
exit 0`;

/** The probe of one node. */
export function probeCommand(role: Role, fqdn: string): Argv {
  const kind = role === "parent" || role === "standby" ? "db" : role === "child" ? "child" : "other";
  return [
    "bash",
    "-c",
    PROBE,
    "django-ha-status",
    kind,
    fqdn,
    LSYNCD_STATUS_FILE,
    dataMounts(role).join(","),
    HEALTH_AGENT_UNIT,
    CERTIFICATE_CANDIDATES(fqdn).join(","),
    ...keyServices(role),
  ];
}

/** `<key>\t<value>` lines into a multimap (order kept). */
function facts(output: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of output.split("\n")) {
    const tab = line.indexOf("\t");
    if (tab <= 0) continue;
    const key = line.slice(0, tab);
    m.set(key, [...(m.get(key) ?? []), line.slice(tab + 1)]);
  }
  return m;
}

const numberOrNull = (s: string | undefined): number | null =>
  s === undefined || s.trim() === "" || !Number.isFinite(Number(s)) ? null : Number(s);

function parseDisk(line: string): DiskUse | undefined {
  const [mount, size, used] = line.trim().split(/\s+/);
  const sizeBytes = Number(size);
  const usedBytes = Number(used);
  if (!mount || !Number.isFinite(sizeBytes) || !Number.isFinite(usedBytes) || sizeBytes <= 0) return undefined;
  return { mount, sizeBytes, usedBytes, usedPercent: Math.round((usedBytes / sizeBytes) * 1000) / 10 };
}

function parseReplica(row: string): ReplicaRow {
  const [application = "", state = "", syncState = "", lag, replay] = row.split("\t");
  return { application, state, syncState, lagBytes: numberOrNull(lag), replayLagSeconds: numberOrNull(replay) };
}

function parsePostgres(f: Map<string, string[]>): PostgresFacts | undefined {
  const recovery = f.get("pg_recovery")?.[0];
  if (recovery === undefined) return undefined;
  if (recovery === "f") return { mode: "primary", replicas: (f.get("replica") ?? []).map(parseReplica) };
  if (recovery === "t") {
    const [received, replay] = (f.get("standby_lag")?.[0] ?? "").split("\t");
    return {
      mode: "standby",
      replicas: [],
      receivedNotReplayedBytes: numberOrNull(received) ?? undefined,
      lastReplaySeconds: numberOrNull(replay) ?? undefined,
    };
  }
  return { mode: "down", error: recovery.trim() || "psql printed nothing", replicas: [] };
}

function parseShareSync(f: Map<string, string[]>): ShareSyncFacts | undefined {
  if (!f.has("lsyncd_age")) return undefined;
  return { statusAgeSeconds: numberOrNull(f.get("lsyncd_age")?.[0]), pendingChanges: numberOrNull(f.get("lsyncd_delays")?.[0]) };
}

/** openssl's "Dec  1 06:00:00 2026 GMT" as an ISO time, or undefined. */
export function opensslTime(text: string): string | undefined {
  const t = Date.parse(text.trim().replace(/ GMT$/, " UTC"));
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}

function parseCertificate(f: Map<string, string[]>): CertificateFacts | { error: string } | undefined {
  const missing = f.get("cert_missing")?.[0];
  if (missing !== undefined) return { error: `no certificate file (${missing})` };
  const path = f.get("cert_path")?.[0];
  if (path === undefined) return undefined;
  const end = f.get("cert_end")?.[0] ?? "";
  const notAfter = opensslTime(end);
  if (!notAfter) return { error: `${path}: openssl could not read it (${end.trim()})` };
  const subject = f.get("cert_subject")?.[0] ?? "";
  return { path, notAfter, subject, placeholder: f.get("cert_selfsigned")?.[0] === "1" || /SELF-SIGNED/.test(subject) };
}

function parseHealth(f: Map<string, string[]>): HealthFacts | undefined {
  const line = f.get("health")?.[0];
  if (line === undefined) return undefined;
  const [code, seconds, exit] = line.trim().split(/\s+/).slice(-3);
  const httpStatus = Number(code) || 0;
  const curlExit = Number(exit);
  return { httpStatus, seconds: Number(seconds) || 0, ...(curlExit !== 0 ? { error: `curl exit ${exit}` } : {}) };
}

/** What one node's probe printed, as the node's status. Pure. */
export function parseProbe(node: { name: string; role: Role; publicAddress: string }, output: string): NodeStatus {
  const f = facts(output);
  const agent = f.has("agent") ? (f.get("agent_log") ?? []) : null;
  const status: NodeStatus = {
    name: node.name,
    role: node.role,
    address: node.publicAddress,
    reachable: true,
    system: f.get("system")?.[0] ?? "unknown",
    failedUnits: f.get("failed") ?? [],
    services: (f.get("unit") ?? []).map((l) => {
      const [unit, state] = l.split(" ");
      return { unit, state: state || "unknown" };
    }),
    disks: (f.get("disk") ?? []).map(parseDisk).filter((d): d is DiskUse => d !== undefined),
  };
  const postgres = parsePostgres(f);
  if (postgres) status.postgres = postgres;
  const share = parseShareSync(f);
  if (share) status.shareSync = share;
  const certificate = parseCertificate(f);
  if (certificate) status.certificate = certificate;
  const health = parseHealth(f);
  if (health) status.health = health;
  if (node.role === "parent" || node.role === "standby") status.agentLog = agent;
  return status;
}
