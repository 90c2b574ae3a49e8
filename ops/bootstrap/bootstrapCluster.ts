/**
 * The bootstrap of a whole cluster from its inventory: what `npm run bootstrap`, the lab's `up` and the
 * Pulumi Bootstrap resource all call. Plans come from a function (roles' renderNodePlan plugs in here).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderNodePlan } from "../../roles";
import { ACME_PATHS } from "../../roles/acme";
import type { ClusterSecrets, NodePlan, RoleContext } from "../../roles/types";
import { UserError } from "../../model/errors";
import type { Inventory, InventoryNode } from "../../model";
import { withStackLock } from "../lock";
import { SshExecutor } from "../ssh/executor";
import { KnownHostsFile } from "../ssh/known-hosts";
import { stepName } from "./apply";
import { runCertificatePhase } from "./certificate";
import { BootstrapSummary, runBootstrap } from "./orchestrate";

export type PlanFor = (node: InventoryNode) => NodePlan;

export interface BootstrapClusterOptions {
  inventory: Inventory;
  /** The plan of one node, e.g. `(n) => renderNodePlan(n, ctx)`. */
  planFor: PlanFor;
  /** OpenSSH private key text of `inventory.ssh.user` (never logged). */
  privateKey: string | Buffer;
  /** known_hosts file that pins host keys on first contact (one per stack). */
  knownHostsPath: string;
  /** The stack's lock file (ops/lock), held for the run: no second bootstrap or a failover meanwhile. Defaults to none. */
  lockPath?: string;
  /** Stack name, for the lock's message. Defaults to the inventory's cluster. */
  stack?: string;
  /** Only these node names (the others count as already bootstrapped). Defaults to all. */
  only?: string[];
  /** Nodes at once. Defaults to 4. */
  concurrency?: number;
  /** Progress lines, labelled by node. Defaults to {@link consoleProgress}. */
  log?: (node: string, line: string) => void;
  /** SSH connection attempts while machines boot. Defaults to 8. */
  connectAttempts?: number;
  /** Pause between check attempts. Defaults to 2 s. */
  checkIntervalMs?: number;
  /** Compare only, change nothing (`--diff`). Defaults to false. */
  readOnly?: boolean;
  /**
   * End with the certificate phase (ops/bootstrap/certificate.ts) when every node converged: the agent on the
   * primary, the sync and a trusted /health/ on each child. Skipped for `--only` runs, diffs, and plans that do
   * not install the agent. Defaults to true.
   */
  certificatePhase?: boolean;
  /** The app's health path the certificate phase asks each child (django-ha:app.healthPath). Defaults to "/health/". */
  healthPath?: string;
}

/** The inventory nodes a run covers, in inventory order; unknown names are an error naming the known ones. */
export function selectNodes(inventory: Inventory, only?: string[]): InventoryNode[] {
  if (!only || only.length === 0) return inventory.nodes;
  const known = inventory.nodes.map((n) => n.name);
  const unknown = only.filter((n) => !known.includes(n));
  if (unknown.length)
    throw new UserError(
      `--only names ${unknown.map((u) => JSON.stringify(u)).join(", ")}, not in the inventory of cluster ${inventory.cluster}. Known nodes: ${known.join(", ")}.`,
    );
  return inventory.nodes.filter((n) => only.includes(n.name));
}

/** Progress printer: `node-name  │ line`, names padded to one column. */
export function consoleProgress(
  names: string[],
  write: (s: string) => void = (s) => process.stdout.write(s),
): (node: string, line: string) => void {
  const width = Math.max(4, ...names.map((n) => n.length));
  return (node, line) => write(`${node.padEnd(width)} │ ${line}\n`);
}

/** Bootstrap the nodes of an inventory over SSH: pinned host keys, one connection per node, locked per stack. */
export async function bootstrapCluster(options: BootstrapClusterOptions): Promise<BootstrapSummary> {
  const { inventory } = options;
  const nodes = selectNodes(inventory, options.only);
  const log = options.log ?? consoleProgress(nodes.map((n) => n.name));
  const plans = nodes.map((n) => options.planFor(n));
  const connect = (node: InventoryNode) =>
    SshExecutor.connect(
      {
        node: node.name,
        host: node.publicAddress,
        port: inventory.ssh.port,
        username: inventory.ssh.user,
        privateKey: options.privateKey,
        knownHosts: new KnownHostsFile(options.knownHostsPath, (m) => log(node.name, m)),
      },
      { connectAttempts: options.connectAttempts, onRetry: (m) => log(node.name, m.replace(`${node.name}: `, "")) },
    );
  const wholeCluster = nodes.length === inventory.nodes.length;
  // Only plans that install the renewal agent (the roles' plans) get the phase: a test's own plans do not.
  const installsAgent = plans.some((p) => p.actions.some((a) => a.kind === "file" && a.file.path === ACME_PATHS.agent));
  const run = async (): Promise<BootstrapSummary> => {
    const summary = await runBootstrap({
      plans,
      concurrency: options.concurrency,
      checkIntervalMs: options.checkIntervalMs,
      readOnly: options.readOnly,
      log,
      connect,
    });
    if (!summary.ok || options.readOnly || options.certificatePhase === false || !wholeCluster || !installsAgent) return summary;
    const certificate = await runCertificatePhase({
      inventory,
      connect,
      log,
      concurrency: options.concurrency,
      healthPath: options.healthPath,
    });
    return { ...summary, ok: certificate.ok, certificate, durationMs: summary.durationMs + certificate.durationMs };
  };
  return options.lockPath ? withStackLock(options.lockPath, options.stack ?? inventory.cluster, "bootstrap", run) : run();
}

/** What a plan would do, without connecting: one line per action and check (the `--dry-run` output). */
export function describePlan(plan: NodePlan): string[] {
  const lines = plan.actions.map((a) => {
    switch (a.kind) {
      case "packages":
        return `${stepName(a)}: ensure installed: ${a.names.join(" ")}`;
      case "file":
        return `${stepName(a)} (${a.file.mode} ${a.file.owner}:${a.file.group}, ${Buffer.byteLength(a.file.content)} bytes)`;
      case "upload":
        return `${stepName(a)} (from ${a.localDir})`;
      case "script":
        return `${stepName(a)} (${a.script.split("\n").length} lines)`;
      case "service": {
        const triggers = [...a.restartWhen, ...(a.restartAfterScripts ?? []).map((s) => `script ${s}`)];
        return `${stepName(a)}: ${a.state}${a.enabled ? ", enabled" : ""}${triggers.length ? `; ${a.reload ? "reload" : "restart"} when ${triggers.join(", ")} changed` : ""}`;
      }
      default: {
        const never: never = a;
        return String(never);
      }
    }
  });
  return [...lines, ...plan.checks.map((c) => `check ${c.name} (up to ${c.attempts ?? 15} attempts)`)];
}

// ------------------------------------------------------------------------------- secrets for non-Pulumi runs

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Letters and digits only (they go into connection strings and config files unquoted), like the Pulumi secrets. */
export function randomPassword(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const b of crypto.randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += ALPHANUMERIC[b % 62]; // 248 = 4 × 62: no modulo bias
    }
  }
  return out;
}

/** Secrets added after a secrets file may have been written: generated into an existing file on first use. */
const ADDED_LATER = { tlsPassphrase: () => randomPassword(48) } as const;

/**
 * The cluster secrets of a run outside Pulumi (`npm run bootstrap`, the lab): read from a 0600 JSON file,
 * generated on first use. Never printed. A file from before a secret existed (tlsPassphrase) gets it added,
 * the other values untouched.
 */
export function loadOrCreateSecrets(file: string): ClusterSecrets {
  const keys = ["dbPassword", "replicationPassword", "redisPassword", "djangoSecretKey"] as const;
  if (fs.existsSync(file)) {
    const mode = fs.statSync(file).mode & 0o077;
    if (mode)
      throw new UserError(
        `${file} is readable by group or others (mode ${(fs.statSync(file).mode & 0o777).toString(8)}); it holds the cluster's passwords. Fix: chmod 600 ${file}`,
      );
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
      throw new UserError(
        `${file} is not valid JSON (${(err as Error).message}). Fix it, or move it away to generate new secrets (the running cluster keeps the old passwords).`,
      );
    }
    const missing = keys.filter((k) => typeof parsed[k] !== "string" || !(parsed[k] as string).length);
    if (missing.length)
      throw new UserError(
        `${file} lacks ${missing.join(", ")}. Add them (letters and digits), or move the file away to generate a new set.`,
      );
    const added = Object.entries(ADDED_LATER).filter(([k]) => typeof parsed[k] !== "string" || !(parsed[k] as string).length);
    if (added.length) {
      for (const [k, make] of added) parsed[k] = make();
      const tmp = `${file}.new`;
      fs.writeFileSync(tmp, `${JSON.stringify(parsed, null, 2)}\n`, { mode: 0o600 });
      fs.renameSync(tmp, file);
    }
    return Object.fromEntries([...keys, ...Object.keys(ADDED_LATER)].map((k) => [k, parsed[k] as string])) as unknown as ClusterSecrets;
  }
  const secrets: ClusterSecrets = {
    dbPassword: randomPassword(32),
    replicationPassword: randomPassword(32),
    redisPassword: randomPassword(32),
    djangoSecretKey: randomPassword(64),
    tlsPassphrase: ADDED_LATER.tlsPassphrase(),
  };
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  return secrets;
}

// ------------------------------------------------------------------------------------------ roles plug-in

export type RenderNodePlan = (node: InventoryNode, ctx: RoleContext) => NodePlan;

/** The plans of roles/ for a context: what every caller uses unless a test brings its own. */
export function rolesPlanFor(ctx: RoleContext, render: RenderNodePlan = renderNodePlan): PlanFor {
  return (node) => render(node, ctx);
}
