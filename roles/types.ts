import type { HealthContext } from "./health";
import type { AppSpec, CertificateSpec, Inventory, InventoryNode, Role } from "../model";

/** A file a role puts on a machine. Rendered from typed data, never by string-concatenated shell. */
export interface RenderedFile {
  /** Absolute path on the machine. */
  path: string;
  content: string;
  /** Octal mode string, e.g. "0644"; secrets are "0600" or "0640". */
  mode: string;
  owner: string;
  group: string;
}

/** Printed on its own line by a script action that changed something; absent = nothing changed. */
export const CHANGED_MARKER = "django-ha: changed";

/**
 * One step of a node's plan, applied in order by ops/bootstrap. Every action is idempotent and reports
 * whether it changed the machine, so a second bootstrap reports "no changes".
 */
export type Action =
  /** apt-get install (no recommends) of whatever of these is not installed yet. */
  | { kind: "packages"; names: string[] }
  /** Write the file if its content, mode or owner differ. */
  | { kind: "file"; file: RenderedFile }
  /** Copy a local directory tree to the machine (only when its content hash differs). */
  | { kind: "upload"; name: string; localDir: string; remoteDir: string; owner: string; group: string }
  /**
   * A bash script (run with `bash -euo pipefail`), idempotent: it checks before it changes and prints
   * CHANGED_MARKER on a line when it changed something. Its name appears in progress and failure reports.
   */
  | { kind: "script"; name: string; script: string }
  /**
   * Make a systemd unit enabled/started (or stopped/masked). It is restarted (or reloaded) when any file
   * in `restartWhen` (paths of file actions of the same plan) or any script in `restartAfterScripts` changed
   * during this run.
   */
  | {
      kind: "service";
      name: string;
      state: "started" | "stopped" | "masked";
      enabled: boolean;
      restartWhen: string[];
      restartAfterScripts?: string[];
      /** Use `systemctl reload` instead of restart (nginx, uWSGI chain reload). */
      reload?: boolean;
    };

/** A health check run after the actions: a bash script that exits 0 when healthy; retried while a service warms up. */
export interface Check {
  name: string;
  script: string;
  /** Attempts, 2 s apart. Defaults to 15. */
  attempts?: number;
}

/** Everything one machine needs, in order. Pure data: produced by roles/, applied by ops/bootstrap. */
export interface NodePlan {
  node: InventoryNode;
  role: Role;
  actions: Action[];
  checks: Check[];
}

/** Secrets the roles render into files (mode 0600/0640). Pulumi secrets in state; never printed. */
export interface ClusterSecrets {
  /** PostgreSQL password of the application user. */
  dbPassword: string;
  /** PostgreSQL password of the replication user. */
  replicationPassword: string;
  /** Redis `requirepass` (Celery broker). */
  redisPassword: string;
  /** Django SECRET_KEY. */
  djangoSecretKey: string;
  /** Encrypts the certificate's and the ACME account's keys on the share (aes-256-cbc PKCS#8). */
  tlsPassphrase: string;
}

/** The certificate and its renewal agent (roles/acme.ts, roles/tls.ts). */
export interface AcmeContext {
  /** The stack's django-ha:certificate, validated (ClusterSpec.certificate). */
  certificate: CertificateSpec;
  /** The agent program: one CommonJS file (ops/acme/bundle.ts bundleAgent()), installed on both database machines. */
  agentSource: string;
  /**
   * DNS-01 credential the agent writes TXT records with: rfc2136 → the TSIG secret (of certificate.dnsKeyName,
   * else of the record's key), digitalocean → a token scoped to domain read/write. Unused for http-01 and
   * on Route 53 (the instance role). Defaults to none.
   */
  dnsSecret?: string;
}

/** How children and the worker see the share. */
export type ShareMount =
  /** NFS mount of `primary.<cluster>.internal:/srv/share` (production: DigitalOcean, AWS, hosts). */
  | "nfs"
  /** The lab has no kernel NFS client: the lab binds the same host directory at /srv/share instead. */
  | "lab-bind"
  /**
   * The lab has no kernel NFS client, and the primary's share lives on its share volume (a loop device): the
   * lab hands that same block device to children and the worker, which mount it at /srv/share. One kernel
   * superblock behind every mount, so all nodes see one coherent filesystem, as NFS clients would.
   */
  | "lab-device";

/** Everything a role renders from. */
export interface RoleContext {
  inventory: Inventory;
  secrets: ClusterSecrets;
  shareMount: ShareMount;
  /** Local directory of the Django project to deploy (defaults to this repository's app/). */
  appDir: string;
  /**
   * CIDRs SSH is allowed from (the stack's `django-ha:adminCidrs`, i.e. ClusterSpec.adminCidrs): the host
   * firewall of every node opens port 22 to these only. Must not be empty.
   */
  adminCidrs: string[];
  acme: AcmeContext;
  /** The stack's django-ha:app (ClusterSpec.app): settings module, env, extra Debian packages, secret names. */
  app: AppSpec;
  /**
   * The values of app.secretKeys (the secret django-ha:appSecrets; outside Pulumi DJANGO_HA_APP_SECRETS), rendered
   * into /etc/django-ha/app-secrets.env. Exactly the keys of app.secretKeys.
   */
  appSecrets: Record<string, string>;
  /** The health agent on the database machines (roles/health.ts). */
  health: HealthContext;
}
