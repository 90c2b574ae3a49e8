/**
 * From a stack name to everything a bootstrap needs: the inventory (a cloud stack's exported inventory, a source
 * the caller injects such as the lab's, or the hosts stack file), the SSH key, the pinned host keys, the secrets
 * and the lock. Used by scripts/ and by the lab's after-boot hook (lab/bootstrap.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { AcmeContext, ClusterSecrets, NodePlan, RoleContext, ShareMount } from "../../roles/types";
import {
  AppSpec,
  CertificateSpec,
  ClusterSpec,
  dataDeviceProblem,
  HealthSpec,
  hostsInventory,
  Inventory,
  loadStackSpec,
  UserError,
} from "../../model";
import { bundleAgent } from "../acme/bundle";
import { acmeContextFor, acmeDnsSecret } from "./acme";
import { appSecretsFor, dryRunAppSecrets } from "./appSecrets";
import { healthContextFor } from "./health";
import type { HealthContext } from "../../roles/health";
import { stackLockPath } from "../lock";
import { sourceTree } from "../release/pack";
import { bootstrapCluster, loadOrCreateSecrets, PlanFor, rolesPlanFor, selectNodes } from "./bootstrapCluster";
import { BootstrapSummary } from "./orchestrate";
import type { InventorySource, SourceCapabilities, SourcedMachines } from "./source";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/**
 * Local operator state of a stack (pinned host keys, generated secrets, the lock): .django-ha/<stack>/
 * (DJANGO_HA_STATE_DIR moves .django-ha/ elsewhere).
 */
export function stackStateDir(stack: string, root = process.env.DJANGO_HA_STATE_DIR ?? path.join(REPO_ROOT, ".django-ha")): string {
  return path.join(root, stack);
}

export interface StackTarget {
  stack: string;
  inventory: Inventory;
  /** Where the inventory came from, for messages. */
  inventorySource: string;
  identityFile: string;
  knownHostsPath: string;
  secretsFile: string;
  lockPath: string;
  shareMount: ShareMount;
  /** The stack's `django-ha:adminCidrs` (the only sources SSH is opened to on every node). */
  adminCidrs: string[];
  /** The stack's django-ha:certificate (validated). */
  certificate: CertificateSpec;
  /** The stack's django-ha:app (validated): the Django project the cluster runs. */
  app: AppSpec;
  /** The stack's django-ha:health (validated). */
  health: HealthSpec;
  /** What the machine source holds itself (the lab: its TSIG keys, its share, its power, its record of the primary). */
  capabilities: SourceCapabilities;
}

export interface ResolveStackOptions {
  stack: string;
  /** JSON of `pulumi stack output inventory --json` (needed for digitalocean/aws stacks). */
  inventoryFile?: string;
  /** SSH private key. Defaults to the source's (~/.ssh/id_ed25519 for files; the lab's own for the lab). */
  identity?: string;
  /** known_hosts to pin into. Defaults to the source's (.django-ha/<stack>/known_hosts for files; the lab's own for the lab). */
  knownHosts?: string;
  /**
   * Machine sources asked before the hosts stack file (after --inventory): scripts/ pass the lab's (lab/source.ts).
   * Required, so every caller says which sources it knows.
   */
  sources: readonly InventorySource[];
  /** Where .django-ha/ lives. Defaults to the repository's. */
  stateRoot?: string;
  /** Directory of Pulumi.<stack>.yaml files. Defaults to stacks/. */
  stacksDir?: string;
  /**
   * For plans only (--dry-run): a source that is not running (the lab not up) may answer from the stack file
   * instead of failing. Defaults to false.
   */
  offline?: boolean;
}

/** Minimal shape check of an inventory read from a file: what the bootstrap relies on. */
export function parseInventory(text: string, source: string): Inventory {
  let inv: Partial<Inventory>;
  try {
    inv = JSON.parse(text);
  } catch (err) {
    throw new UserError(
      `${source} is not JSON (${(err as Error).message}). Write it with: pulumi stack output inventory --json > ${source}`,
    );
  }
  const problems: string[] = [];
  if (inv?.version !== 1)
    problems.push(`version = ${JSON.stringify(inv?.version)}: expected 1 (an inventory written by this version of django-ha)`);
  if (!Array.isArray(inv?.nodes) || inv.nodes.length === 0)
    problems.push(`nodes = ${JSON.stringify(inv?.nodes)}: expected the list of nodes`);
  else
    inv.nodes.forEach((n, i) => {
      if (!n?.name || !n?.role || !n?.publicAddress)
        problems.push(`nodes[${i}] = ${JSON.stringify(n)}: every node needs name, role and publicAddress`);
      // The bootstrap formats blank devices at these paths: only stable names, never a kernel name.
      for (const [purpose, device] of Object.entries((n?.dataDevices ?? {}) as Record<string, unknown>)) {
        const problem = typeof device === "string" ? dataDeviceProblem(device) : "is not a device path";
        if (problem) problems.push(`nodes[${i}].dataDevices.${purpose} = ${JSON.stringify(device)}: ${problem}`);
      }
    });
  if (!inv?.ssh || typeof inv.ssh.user !== "string" || typeof inv.ssh.port !== "number")
    problems.push(`ssh = ${JSON.stringify(inv?.ssh)}: expected { user, port }`);
  if (problems.length)
    throw new UserError(
      `${source} is not a django-ha inventory:\n${problems.map((p) => `  - ${p}`).join("\n")}\nWrite it with: pulumi stack output inventory --json > ${source}`,
    );
  return inv as Inventory;
}

/** An inventory exported from a cloud stack (`--inventory`). */
function inventoryFileMachines(o: ResolveStackOptions, file: string): SourcedMachines {
  if (!fs.existsSync(file))
    throw new UserError(
      `--inventory ${file} does not exist. Write it with: pulumi stack output inventory --json --stack ${o.stack} > ${file}`,
    );
  return {
    inventory: parseInventory(fs.readFileSync(file, "utf8"), file),
    inventorySource: file,
    identityFile: path.join(os.homedir(), ".ssh", "id_ed25519"),
    knownHostsPath: path.join(stackStateDir(o.stack, o.stateRoot), "known_hosts"),
    capabilities: {},
  };
}

/** A hosts stack's machines, from its stack file. A cloud stack's exist only in Pulumi's state: say how to export them. */
function stackFileMachines(o: ResolveStackOptions, spec: ClusterSpec): SourcedMachines {
  if (spec.provider !== "hosts")
    throw new UserError(
      `Stack ${o.stack} targets ${spec.provider}: its machines' addresses exist only in Pulumi's state. ` +
        `Export them and pass the file: pulumi stack output inventory --json --stack ${o.stack} > ${o.stack}-inventory.json && ` +
        `npm run bootstrap -- --stack ${o.stack} --inventory ${o.stack}-inventory.json`,
    );
  return {
    inventory: hostsInventory(spec),
    inventorySource: `stacks/Pulumi.${o.stack}.yaml`,
    identityFile: path.join(os.homedir(), ".ssh", "id_ed25519"),
    knownHostsPath: path.join(stackStateDir(o.stack, o.stateRoot), "known_hosts"),
    capabilities: {},
  };
}

/** A stack's target from its validated stack file and a source's machines; --identity and --known-hosts win over the source's. */
export function targetOf(
  o: Pick<ResolveStackOptions, "stack" | "stateRoot" | "identity" | "knownHosts">,
  spec: ClusterSpec,
  machines: SourcedMachines,
): StackTarget {
  const state = stackStateDir(o.stack, o.stateRoot);
  return {
    stack: o.stack,
    inventory: machines.inventory,
    inventorySource: machines.inventorySource,
    identityFile: o.identity ?? machines.identityFile,
    knownHostsPath: o.knownHosts ?? machines.knownHostsPath,
    secretsFile: path.join(state, "secrets.json"),
    lockPath: stackLockPath(state),
    shareMount: machines.capabilities.shareMountFor?.(machines.inventory) ?? "nfs",
    // The stack file is read for every source: it holds what the inventory does not (adminCidrs, certificate, app, health).
    adminCidrs: spec.adminCidrs,
    certificate: spec.certificate,
    app: spec.app,
    health: spec.health,
    capabilities: machines.capabilities,
  };
}

/**
 * Resolve a stack's inventory, key, known_hosts, secrets file and lock: from --inventory, else from the first
 * injected source that holds the stack, else from the hosts stack file. Throws UserError with the next step.
 */
export function resolveStack(o: ResolveStackOptions): StackTarget {
  const spec = loadStackSpec(o.stack, o.stacksDir);
  if (o.inventoryFile) return targetOf(o, spec, inventoryFileMachines(o, o.inventoryFile));
  for (const source of o.sources) {
    const machines = source.machinesOf(o.stack, spec, o.offline ?? false);
    if (machines) return targetOf(o, spec, machines);
  }
  return targetOf(o, spec, stackFileMachines(o, spec));
}

function readIdentity(file: string): string {
  if (!fs.existsSync(file))
    throw new UserError(
      `SSH key ${file} does not exist. Pass the private key whose public half the machines authorize with --identity <file>.`,
    );
  return fs.readFileSync(file, "utf8");
}

export interface StackRunOptions extends ResolveStackOptions {
  only?: string[];
  concurrency?: number;
  log?: (node: string, line: string) => void;
  /** Local Django project to deploy. Defaults to the repository's app/. */
  appDir?: string;
  /** Plans for the nodes. Defaults to roles' renderNodePlan with the stack's secrets. */
  planFor?: PlanFor;
  /** Compare only, change nothing (`--diff`). Defaults to false. */
  readOnly?: boolean;
}

/**
 * The project directory the bootstrap uploads (the worker builds the first release from it): the stack's
 * django-ha:app directory, or its git ref exported into .django-ha/<stack>/source.
 */
export function bootstrapAppDir(target: Pick<StackTarget, "app" | "stack">): string {
  return sourceTree(target.app.source, path.join(stackStateDir(target.stack), "source")).dir;
}

/** What a caller may hand roleContextFor instead of what it reads or makes itself. */
export interface RoleInputs {
  /** The project directory to upload. Defaults to the stack's django-ha:app source (bootstrapAppDir). */
  appDir?: string;
  /** The cluster's secrets. Defaults to the stack's secrets file (created on first use). */
  secrets?: ClusterSecrets;
  /** The certificate part. Defaults to the bundled agent and the DNS-01 credential read now. */
  acme?: AcmeContext;
  /** The values of app.secretKeys. Defaults to the environment, or what the source generates. */
  appSecrets?: Record<string, string>;
  /** The health agent's part. Defaults to the bundled agent and its DNS credential read now. */
  health?: HealthContext;
}

/** The role context of a stack (secrets file created on first use; the agent bundled; the DNS-01 credential read). */
export async function roleContextFor(target: StackTarget, inputs: RoleInputs = {}): Promise<RoleContext> {
  // In this order: the project exported, the secrets file made, then the app secrets read (or generated).
  const appDir = inputs.appDir ?? bootstrapAppDir(target);
  const secrets = inputs.secrets ?? loadOrCreateSecrets(target.secretsFile);
  const stateDir = path.dirname(target.secretsFile);
  const appSecrets =
    inputs.appSecrets ??
    appSecretsFor({ stack: target.stack, app: target.app, stateDir, generateMissing: target.capabilities.generatesAppSecrets });
  return {
    inventory: target.inventory,
    secrets,
    shareMount: target.shareMount,
    appDir,
    adminCidrs: target.adminCidrs,
    acme: inputs.acme ?? (await acmeContextFor(target)),
    app: target.app,
    appSecrets,
    health: inputs.health ?? (await healthContextFor(target)),
  };
}

/** Stand-ins rendered by a dry run before the first real run made the secrets (a dry run writes nothing). */
const NOT_YET_GENERATED: ClusterSecrets = {
  dbPassword: "notyetgenerated",
  replicationPassword: "notyetgenerated",
  redisPassword: "notyetgenerated",
  djangoSecretKey: "notyetgenerated",
  tlsPassphrase: "notyetgenerated",
};

/** The DNS-01 credential of a dry run: the real one when it can be read, else a stand-in (a dry run needs no secret). */
function dryRunDnsSecret(target: StackTarget): string | undefined {
  try {
    return acmeDnsSecret(target);
  } catch (err) {
    if (err instanceof UserError) return "notyetset";
    throw err;
  }
}

/** The plans a run would apply, without connecting or writing anything (what `--dry-run` prints). */
export async function renderStackPlans(
  target: StackTarget,
  o: Pick<StackRunOptions, "only" | "appDir" | "planFor"> = {},
): Promise<NodePlan[]> {
  const secrets = fs.existsSync(target.secretsFile) ? loadOrCreateSecrets(target.secretsFile) : NOT_YET_GENERATED;
  const dnsSecret = dryRunDnsSecret(target);
  const acme: AcmeContext = {
    certificate: target.certificate,
    agentSource: await bundleAgent(),
    ...(dnsSecret !== undefined ? { dnsSecret } : {}),
  };
  const appSecrets = dryRunAppSecrets({ stack: target.stack, app: target.app, stateDir: path.dirname(target.secretsFile) });
  const planFor =
    o.planFor ??
    rolesPlanFor(
      await roleContextFor(target, { appDir: o.appDir, secrets, acme, appSecrets, health: await healthContextFor(target, true) }),
    );
  return selectNodes(target.inventory, o.only).map((n) => planFor(n));
}

/** Apply the plans of a resolved stack over SSH under its lock. */
export async function bootstrapTarget(
  target: StackTarget,
  o: Omit<StackRunOptions, keyof ResolveStackOptions> = {},
): Promise<BootstrapSummary> {
  const privateKey = readIdentity(target.identityFile);
  // A diff writes nothing, not even the secrets file (without it every secret-bearing file differs anyway).
  const secrets = o.readOnly && !fs.existsSync(target.secretsFile) ? NOT_YET_GENERATED : undefined;
  const planFor = o.planFor ?? rolesPlanFor(await roleContextFor(target, { appDir: o.appDir, secrets }));
  return bootstrapCluster({
    inventory: target.inventory,
    planFor,
    privateKey,
    knownHostsPath: target.knownHostsPath,
    lockPath: target.lockPath,
    stack: target.stack,
    healthPath: target.app.healthPath,
    only: o.only,
    concurrency: o.concurrency,
    log: o.log,
    readOnly: o.readOnly,
  });
}

/** Bootstrap a stack end to end: resolve it, render the plans, apply them over SSH under the stack's lock. */
export async function bootstrapStack(o: StackRunOptions): Promise<{ target: StackTarget; summary: BootstrapSummary }> {
  const target = resolveStack(o);
  return { target, summary: await bootstrapTarget(target, o) };
}
