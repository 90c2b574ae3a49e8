/**
 * From a stack name to everything a bootstrap needs: the inventory (hosts stack file, the lab's
 * .lab/inventory.json, or a cloud stack's exported inventory), the SSH key, the pinned host keys, the
 * secrets and the lock. Used by scripts/bootstrap.ts and the lab's `up`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { AcmeContext, ClusterSecrets, NodePlan, RoleContext, ShareMount } from "../../roles/types";
import { labShareMount } from "../../roles/share";
import { AppSpec, CertificateSpec, dataDeviceProblem, HealthSpec, hostsInventory, Inventory, loadStackSpec, UserError } from "../../model";
import { bundleAgent } from "../acme/bundle";
import { acmeContextFor, acmeDnsSecret } from "./acme";
import { appSecretsFor, dryRunAppSecrets } from "./appSecrets";
import { healthContextFor } from "./health";
import type { HealthContext } from "../../roles/health";
import { stackLockPath } from "../lock";
import { sourceTree } from "../release/pack";
import { bootstrapCluster, loadOrCreateSecrets, PlanFor, rolesPlanFor, selectNodes } from "./bootstrapCluster";
import { BootstrapSummary, formatSummary } from "./orchestrate";

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
  /** The machines are the local lab's (its power, its record of the primary). */
  lab?: boolean;
  /** The stack's django-ha:certificate (validated). */
  certificate: CertificateSpec;
  /** The stack's django-ha:app (validated): the Django project the cluster runs. */
  app: AppSpec;
  /** The stack's django-ha:health (validated). */
  health: HealthSpec;
  /** lab: its state directory (key files of the DNS-01 credential). */
  labRoot?: string;
}

export interface ResolveStackOptions {
  stack: string;
  /** JSON of `pulumi stack output inventory --json` (needed for digitalocean/aws stacks). */
  inventoryFile?: string;
  /** SSH private key. Defaults to ~/.ssh/id_ed25519; for the lab, its own .lab/ssh/id_ed25519. */
  identity?: string;
  /** known_hosts to pin into. Defaults to .django-ha/<stack>/known_hosts; for the lab, .lab/ssh/known_hosts. */
  knownHosts?: string;
  /** Lab state directory. Defaults to LAB_DIR or .lab/. */
  labRoot?: string;
  /** Where .django-ha/ lives. Defaults to the repository's. */
  stateRoot?: string;
  /** Directory of Pulumi.<stack>.yaml files. Defaults to stacks/. */
  stacksDir?: string;
  /**
   * For plans only (--dry-run): when the lab is not up, take its inventory from the stack file instead of
   * failing. Defaults to false.
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

/** Resolve a stack's inventory, key, known_hosts, secrets file and lock. Throws UserError with the next step. */
function labRootOf(o: ResolveStackOptions): string {
  return o.labRoot ?? (process.env.LAB_DIR ? path.resolve(process.env.LAB_DIR) : path.join(REPO_ROOT, ".lab"));
}

/** Whether the running lab was booted from this hosts stack (e.g. `lab-wide`): same node names and addresses. */
function labRunsStack(root: string, spec: ReturnType<typeof loadStackSpec>): boolean {
  const file = path.join(root, "inventory.json");
  if (spec.provider !== "hosts" || !fs.existsSync(file)) return false;
  const key = (nodes: { name: string; publicAddress: string }[]) =>
    nodes
      .map((n) => `${n.name}@${n.publicAddress}`)
      .sort()
      .join(",");
  return key(parseInventory(fs.readFileSync(file, "utf8"), file).nodes) === key(hostsInventory(spec).nodes);
}

export function resolveStack(o: ResolveStackOptions): StackTarget {
  const state = stackStateDir(o.stack, o.stateRoot);
  // The stack file is read for every target: it holds what the inventory does not (adminCidrs).
  const spec = loadStackSpec(o.stack, o.stacksDir);
  const common = {
    stack: o.stack,
    secretsFile: path.join(state, "secrets.json"),
    lockPath: stackLockPath(state),
    adminCidrs: spec.adminCidrs,
    certificate: spec.certificate,
    app: spec.app,
    health: spec.health,
  };
  const defaultIdentity = path.join(os.homedir(), ".ssh", "id_ed25519");
  let target: StackTarget;
  if (o.inventoryFile) {
    if (!fs.existsSync(o.inventoryFile))
      throw new UserError(
        `--inventory ${o.inventoryFile} does not exist. Write it with: pulumi stack output inventory --json --stack ${o.stack} > ${o.inventoryFile}`,
      );
    target = {
      ...common,
      inventory: parseInventory(fs.readFileSync(o.inventoryFile, "utf8"), o.inventoryFile),
      inventorySource: o.inventoryFile,
      identityFile: o.identity ?? defaultIdentity,
      knownHostsPath: o.knownHosts ?? path.join(state, "known_hosts"),
      shareMount: "nfs",
    };
  } else if (o.stack === "lab" || labRunsStack(labRootOf(o), spec)) {
    const root = labRootOf(o);
    const file = path.join(root, "inventory.json");
    const up = fs.existsSync(file);
    if (!up && !(o.offline && spec.provider === "hosts"))
      throw new UserError(`The lab is not up: ${file} does not exist. Start it with: npm run lab -- up`);
    const inventory = up ? parseInventory(fs.readFileSync(file, "utf8"), file) : hostsInventory(spec);
    target = {
      ...common,
      inventory,
      inventorySource: up ? file : `stacks/Pulumi.${o.stack}.yaml (the lab is not up)`,
      lab: true,
      labRoot: root,
      identityFile: o.identity ?? path.join(root, "ssh", "id_ed25519"),
      knownHostsPath: o.knownHosts ?? path.join(root, "ssh", "known_hosts"),
      shareMount: labShareMount(inventory),
    };
  } else {
    if (spec.provider !== "hosts") {
      throw new UserError(
        `Stack ${o.stack} targets ${spec.provider}: its machines' addresses exist only in Pulumi's state. ` +
          `Export them and pass the file: pulumi stack output inventory --json --stack ${o.stack} > ${o.stack}-inventory.json && ` +
          `npm run bootstrap -- --stack ${o.stack} --inventory ${o.stack}-inventory.json`,
      );
    }
    target = {
      ...common,
      inventory: hostsInventory(spec),
      inventorySource: `stacks/Pulumi.${o.stack}.yaml`,
      identityFile: o.identity ?? defaultIdentity,
      knownHostsPath: o.knownHosts ?? path.join(state, "known_hosts"),
      shareMount: "nfs",
    };
  }
  return target;
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

/** The role context of a stack (secrets file created on first use; the agent bundled; the DNS-01 credential read). */
export async function roleContextFor(
  target: StackTarget,
  appDir = bootstrapAppDir(target),
  secrets = loadOrCreateSecrets(target.secretsFile),
  acme?: AcmeContext,
  appSecrets = appSecretsFor({ stack: target.stack, app: target.app, stateDir: path.dirname(target.secretsFile), lab: target.lab }),
  health?: HealthContext,
): Promise<RoleContext> {
  return {
    inventory: target.inventory,
    secrets,
    shareMount: target.shareMount,
    appDir,
    adminCidrs: target.adminCidrs,
    acme: acme ?? (await acmeContextFor(target)),
    app: target.app,
    appSecrets,
    health: health ?? (await healthContextFor(target)),
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
    o.planFor ?? rolesPlanFor(await roleContextFor(target, o.appDir, secrets, acme, appSecrets, await healthContextFor(target, true)));
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
  const planFor = o.planFor ?? rolesPlanFor(await roleContextFor(target, o.appDir, secrets));
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

/** What the lab hands its after-boot hooks (lab/lab.ts AfterBootHook), structurally. */
export interface LabBootContext {
  inventory: Inventory;
  paths: { sshKey: string; knownHosts: string };
  log: (line: string) => void;
}

/**
 * An after-boot hook for the lab's `up`: bootstrap every lab node with the lab's key and pinned host keys
 * (`labUp({ afterBoot: [labBootstrapHook()] })`). Progress and the summary go to the lab's log; a failed
 * node throws a UserError whose message is the summary (node, step, output).
 */
export function labBootstrapHook(
  o: {
    stack?: string;
    only?: string[];
    concurrency?: number;
    appDir?: string;
    stateRoot?: string;
    stacksDir?: string;
    planFor?: PlanFor;
    /** The Django project instead of the stack's django-ha:app (a test project). Defaults to the stack's. */
    app?: AppSpec;
    /** Receives the run's summary (timings for bench/, results for tests). */
    onSummary?: (summary: BootstrapSummary) => void;
  } = {},
) {
  return async (ctx: LabBootContext): Promise<void> => {
    const stack = o.stack ?? "lab";
    const spec = loadStackSpec(stack, o.stacksDir);
    const state = stackStateDir(stack, o.stateRoot);
    const target: StackTarget = {
      stack,
      inventory: ctx.inventory,
      inventorySource: "the lab",
      identityFile: ctx.paths.sshKey,
      knownHostsPath: ctx.paths.knownHosts,
      secretsFile: path.join(state, "secrets.json"),
      lockPath: stackLockPath(state),
      shareMount: labShareMount(ctx.inventory),
      adminCidrs: spec.adminCidrs,
      certificate: spec.certificate,
      app: o.app ?? spec.app,
      health: spec.health,
      lab: true,
      labRoot: labRootOf({ stack }),
    };
    const names = selectNodes(ctx.inventory, o.only).map((n) => n.name);
    const width = Math.max(4, ...names.map((n) => n.length));
    const summary = await bootstrapTarget(target, {
      only: o.only,
      concurrency: o.concurrency,
      appDir: o.appDir,
      planFor: o.planFor,
      log: (node, line) => ctx.log(`${node.padEnd(width)} │ ${line}`),
    });
    o.onSummary?.(summary);
    const text = formatSummary(summary);
    if (!summary.ok) throw new UserError(text);
    for (const line of text.split("\n")) ctx.log(line);
  };
}
