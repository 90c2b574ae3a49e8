/** PostgreSQL (Debian cluster <major>/main, model/debian.ts): a conf.d fragment and a complete pg_hba.conf. */
import * as net from "node:net";

export interface PostgresConf {
  listenAddresses: string[];
  port: number;
  /** Empty string = no synchronous standby (the standby's own setting, and the async fallback). */
  synchronousStandbyNames: string;
  /** Upper bound on WAL a replication slot may retain before the slot is invalidated (disk protection). */
  maxSlotWalKeepSize: string;
}

/** A postgresql.conf value: numbers and on/off bare, everything else single-quoted. */
function pgValue(v: string | number): string {
  if (typeof v === "number" || /^(on|off|replica)$/.test(v)) return String(v);
  return `'${v.replace(/'/g, "''")}'`;
}

export function renderPostgresConf(cfg: PostgresConf): string {
  const settings: [string, string | number, string?][] = [
    ["listen_addresses", cfg.listenAddresses.join(","), "private network only, plus loopback"],
    ["port", cfg.port],
    ["password_encryption", "scram-sha-256"],
    ["wal_level", "replica"],
    ["max_wal_senders", 10],
    ["max_replication_slots", 10],
    ["max_slot_wal_keep_size", cfg.maxSlotWalKeepSize, "an abandoned slot must not fill the disk"],
    ["wal_keep_size", "512MB"],
    ["wal_log_hints", "on", "pg_rewind of a former primary needs it (Debian's initdb has no data checksums)"],
    ["hot_standby", "on"],
    ["hot_standby_feedback", "on"],
    ["synchronous_commit", "on"],
    ["synchronous_standby_names", cfg.synchronousStandbyNames, "see README: Synchronous replication"],
    ["wal_sender_timeout", "30s"],
    ["wal_receiver_timeout", "30s"],
  ];
  return [
    "# django-ha: replication and access settings (included from postgresql.conf's conf.d).",
    ...settings.map(([k, v, why]) => `${k} = ${pgValue(v)}${why ? `\t# ${why}` : ""}`),
    "",
  ].join("\n");
}

export interface HbaRule {
  type: "local" | "host" | "hostssl";
  database: string;
  user: string;
  /** Single address (made /32 or /128) or CIDR; absent for local. */
  address?: string;
  method: "peer" | "scram-sha-256" | "reject";
}

function hostCidr(address: string): string {
  if (address.includes("/")) return address;
  return `${address}/${net.isIP(address) === 6 ? 128 : 32}`;
}

export function renderPgHba(rules: HbaRule[]): string {
  const rows = rules.map((r) => [r.type, r.database, r.user, r.type === "local" ? "" : hostCidr(r.address ?? ""), r.method]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i].length)));
  return [
    "# django-ha: who may connect (first match wins). Everything not listed is rejected.",
    ...rows.map((row) =>
      row
        .map((c, i) => (i < 4 ? c.padEnd(widths[i]) : c))
        .join("  ")
        .replace(/ +$/, ""),
    ),
    "",
  ].join("\n");
}
