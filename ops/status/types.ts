/**
 * What `npm run status` knows about a cluster: facts gathered over SSH and DNS (plain data, also the `--json`
 * output), and the problems that need a human, derived from them by evaluate.ts.
 */
import type { Role } from "../../model";

/** One filesystem a node keeps data on (df). */
export interface DiskUse {
  mount: string;
  sizeBytes: number;
  usedBytes: number;
  usedPercent: number;
}

/** One standby as the primary's pg_stat_replication sees it. */
export interface ReplicaRow {
  application: string;
  state: string;
  /** "sync", "async", "potential", "quorum". */
  syncState: string;
  /** Bytes of WAL the standby has not replayed yet (pg_current_wal_lsn - replay_lsn); null when unknown. */
  lagBytes: number | null;
  /** Seconds between a commit and its replay on the standby (replay_lag); null while idle. */
  replayLagSeconds: number | null;
}

export interface PostgresFacts {
  /** "primary" (not in recovery), "standby" (in recovery), or "down" (psql failed: the reason is in `error`). */
  mode: "primary" | "standby" | "down";
  error?: string;
  /** On a primary: its standbys. */
  replicas: ReplicaRow[];
  /** On a standby: WAL received but not replayed, in bytes. */
  receivedNotReplayedBytes?: number;
  /** On a standby: seconds since the last replayed commit was made on the primary (-1: none replayed yet). */
  lastReplaySeconds?: number;
}

/** The share's copy to the standby (lsyncd on the primary). */
export interface ShareSyncFacts {
  /** Changes lsyncd holds back that the standby does not have yet (its status file's "delays"). */
  pendingChanges: number | null;
  /** Seconds since lsyncd last wrote its status file; null when it never did. */
  statusAgeSeconds: number | null;
}

/** The certificate a child's nginx serves (openssl x509 -enddate on the file nginx -T names). */
export interface CertificateFacts {
  path: string;
  /** ISO time of notAfter. */
  notAfter: string;
  subject: string;
  /** The bootstrap's self-signed placeholder (until the first ACME certificate). */
  placeholder: boolean;
}

/** A child's health endpoint as the child's own nginx answers it. */
export interface HealthFacts {
  /** HTTP status; 0 when no answer (the curl error is in `error`). */
  httpStatus: number;
  seconds: number;
  error?: string;
}

/** Everything one node told us (or why it could not). */
export interface NodeStatus {
  name: string;
  role: Role;
  address: string;
  reachable: boolean;
  /** Why it could not be asked (SSH failed, or the probe did), when unreachable. */
  error?: string;
  /** `systemctl is-system-running`: running, degraded, starting, … */
  system?: string;
  failedUnits: string[];
  /** The role's key services and their `systemctl is-active` state. */
  services: { unit: string; state: string }[];
  disks: DiskUse[];
  postgres?: PostgresFacts;
  shareSync?: ShareSyncFacts;
  certificate?: CertificateFacts | { error: string };
  health?: HealthFacts;
  /** The health agent's last changes (on the primary); null when no agent is installed. */
  agentLog?: string[] | null;
}

/** The round-robin record as the DNS provider lists it. */
export interface RecordStatus {
  fqdn: string;
  /** Addresses in the record; null when it could not be read (see `error`). */
  members: { name: string; address: string }[] | null;
  error?: string;
}

export type Severity = "problem" | "note";

/** One finding: a problem needs a human (non-zero exit); a note is worth knowing. */
export interface Finding {
  severity: Severity;
  /** The node it concerns, or "cluster". */
  subject: string;
  message: string;
}

export interface ClusterStatus {
  stack: string;
  cluster: string;
  /** ISO time the gathering finished. */
  takenAt: string;
  primary: string;
  standby: string;
  syncReplication: string;
  record: RecordStatus;
  nodes: NodeStatus[];
  findings: Finding[];
  /** True when no finding is a problem: `status` exits 0. */
  healthy: boolean;
}
