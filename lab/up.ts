/** `lab up`: boot the lab (idempotent: running nodes are left alone), its network, index, volumes and record. */
import * as fs from "node:fs";
import * as path from "node:path";
import { loadStackSpec, recordMembers, UserError, type Inventory } from "../model";
import { ACME_NODE, DEFAULT_ACME_VALIDITY_SECONDS, LAB_NET, labPaths, type LabPaths } from "./config";
import { run } from "../ops/process";
import { ensureImage, imageKey, imagePackages, pruneImages, type ImageInfo } from "./image";
import { configureAcmeNode, configureDnsNode } from "./infra";
import { ensureAcmeTsigKey, ensureHealthTsigKey, ensureSshKey, ensureTsigKey, type TsigKey } from "./keys";
import { ensureLabCa, installTrust, pebbleDirectoryUrl, renderPebbleConfig } from "./pebble";
import { bridgeCommands, namespaceCommands, netnsName, nftDeleteTable, nftRuleset, parseLabLinks, parseLabNetns } from "./net";
import { bootNode, mountNode, NodeState, personalize, removePropagateDir } from "./node";
import { labMachines, nodeMounts, OUTSIDE, volumesFor, wantedPackages } from "./plan";
import { alive, findLabNspawns } from "./procs";
import { buildPythonIndex, startPythonIndex } from "./pyindex";
import { isInfrastructure, type LabMachine } from "./render";
import { acquireLock, readState, writeState, type LabState } from "./state";
import { attachVolumes, labVolumes } from "./volumes";
import { checkBootable, refreshLabTrust, trustedCerts, waitReady, writeKnownHosts } from "./boot";
import { labDns, labInventory } from "./inventory";
import { defaultLog, type Log } from "./log";
import { preflight } from "./preflight";

/** What an after-boot hook is handed: the running lab's inventory, its files, and its log. */
export interface AfterBootContext {
  inventory: Inventory;
  paths: LabPaths;
  log: Log;
}

/** Runs after every node is ready and the record is set (the bootstrap plugs in here: lab/bootstrap.ts). */
export type AfterBootHook = (ctx: AfterBootContext) => Promise<void>;

export interface LabUpOptions {
  /** Stack whose `hosts` the lab boots. Defaults to "lab" (stacks/Pulumi.lab.yaml). */
  stack?: string;
  /** Bake a new image even when one is cached. Defaults to false. */
  rebake?: boolean;
  /** Progress lines. Defaults to stderr. */
  log?: Log;
  /** Hooks run in order after boot. Defaults to none. */
  afterBoot?: AfterBootHook[];
  /** Per-node readiness limit. Defaults to 120 s. */
  readyTimeoutMs?: number;
  /**
   * Lifetime of the certificates the lab's ACME CA (pebble) issues, in seconds: short ones (e.g. 120) make
   * renewals happen within a test. Defaults to 7776000 (90 days, as Let's Encrypt's classic profile).
   */
  acmeValiditySeconds?: number;
}

export interface LabUpResult {
  inventory: Inventory;
  image: ImageInfo;
  /** Per machine: seconds from boot to ready (0 when it was already running). */
  ready: Record<string, number>;
  seconds: number;
}

/** Refuse an `up` that would change what running nodes depend on: the image, or pebble's certificate lifetime. */
function checkCanUp(paths: LabPaths, previous: LabState | undefined, opts: LabUpOptions, validitySeconds: number): void {
  const runningNode = (name: string) => {
    const n = previous?.nodes[name];
    return !!n?.pid && alive(n.pid);
  };
  const running = Object.keys(previous?.nodes ?? {}).some(runningNode) || findLabNspawns().size > 0;
  if (opts.rebake && running) {
    throw new UserError(
      "`up --rebake` replaces the image running nodes are booted from: run `npm run lab -- down` first, then `up --rebake`.",
    );
  }
  const wantedKey = imageKey(imagePackages());
  if (previous && previous.imageKey !== wantedKey && Object.keys(previous.nodes).some(runningNode)) {
    throw new UserError(
      `The running lab uses image ${previous.imageKey}, but the package lists now give ${wantedKey}: run \`npm run lab -- down\` first, then up.`,
    );
  }
  const runningValidity = previous?.acme?.validitySeconds;
  if (runningNode(ACME_NODE) && runningValidity !== undefined && runningValidity !== validitySeconds) {
    throw new UserError(
      `The running lab's pebble issues certificates valid ${runningValidity} s, not ${validitySeconds} s (acmeValiditySeconds / --acme-validity): run \`npm run lab -- down\` first, then up (a new pebble has a new root).`,
    );
  }
}

interface PrepareContext {
  paths: LabPaths;
  previous: LabState | undefined;
  machines: LabMachine[];
  inventory: Inventory;
  imageRoot: string;
  volumesOf: ReturnType<typeof volumesFor>;
  sshPublicKey: string;
  keys: { update: TsigKey; acme: TsigKey; health: TsigKey };
  validitySeconds: number;
  /** The stack's certificate names (django-ha:certificate.names, the record first): DNS-01 may prove each. */
  certificateNames: readonly string[];
}

/** A machine's node, ready to boot: a running one as it is; otherwise mounted, personalized and configured. */
async function prepareMachine(m: LabMachine, c: PrepareContext): Promise<NodeState> {
  const old = c.previous?.nodes[m.name];
  if (old?.pid && alive(old.pid)) return old;
  const dir = path.join(c.paths.nodes, m.name);
  const node: NodeState = {
    ...m,
    dir,
    root: path.join(dir, "root"),
    ...nodeMounts(m.kind, c.paths.share, c.volumesOf(m.name)),
    knownHosts: [],
  };
  await mountNode(node, c.imageRoot);
  node.knownHosts = await personalize(node, {
    all: c.machines,
    zone: c.inventory.domain,
    sshPublicKey: c.sshPublicKey,
    wantedPackages: wantedPackages(m.kind),
  });
  if (m.kind === "dns") await configureDnsNode(node, c.machines, c.inventory, c.keys, c.certificateNames);
  if (m.kind === "acme") await configureAcmeNode(node, c.paths, c.validitySeconds);
  // Trust what is known now (a node booted again after a crash keeps pebble's current root); refreshed after pebble answers.
  if (fs.existsSync(c.paths.pebbleRoots)) await installTrust(node.root, trustedCerts(c.paths));
  checkBootable(node);
  return node;
}

/** Boot the nodes `which` selects that are not running, then wait until each is ready. */
async function bootAndWait(
  paths: LabPaths,
  state: LabState,
  which: (n: NodeState) => boolean,
  o: { log: Log; timeoutMs: number; ready: Record<string, number> },
): Promise<void> {
  const nodes = Object.values(state.nodes).filter(which);
  for (const node of nodes) {
    if (node.pid && alive(node.pid)) continue;
    removePropagateDir(node.name);
    node.pid = bootNode(node);
    o.log(`${node.name.padEnd(14)} booting (pid ${node.pid})`);
  }
  writeState(paths, state);
  await Promise.all(
    nodes.map(async (node) => {
      const s = Date.now();
      await waitReady(paths, node, o.timeoutMs);
      o.ready[node.name] = (Date.now() - s) / 1000;
      o.log(`${node.name.padEnd(14)} ${node.address.padEnd(12)} ready in ${o.ready[node.name].toFixed(1)} s`);
    }),
  );
}

/** Boot the lab (idempotent: running nodes are left alone). */
export async function labUp(opts: LabUpOptions = {}): Promise<LabUpResult> {
  const log = opts.log ?? defaultLog;
  const t0 = Date.now();
  await preflight();
  const stack = opts.stack ?? "lab";
  const inventory = labInventory(stack);
  const machines = labMachines(inventory);
  const validitySeconds = opts.acmeValiditySeconds ?? DEFAULT_ACME_VALIDITY_SECONDS;
  renderPebbleConfig(validitySeconds); // refuses a bad lifetime before anything is made
  const paths = labPaths();
  const release = acquireLock(paths, "lab up");
  try {
    const previous = readState(paths);
    checkCanUp(paths, previous, opts, validitySeconds);
    const image = await ensureImage({ rebake: opts.rebake, log });
    log(`image ${image.key}: ${image.baked ? `baked in ${image.seconds.toFixed(0)} s` : "cached"}`);
    const pruned = pruneImages(image.key);
    if (pruned.length) log(`removed ${pruned.length} outdated image file(s): ${pruned.join(", ")}`);
    const sshPublicKey = await ensureSshKey(paths);
    const keys = { update: ensureTsigKey(paths), acme: ensureAcmeTsigKey(paths), health: ensureHealthTsigKey(paths) };
    if (!(previous?.nodes[ACME_NODE]?.pid && alive(previous.nodes[ACME_NODE].pid))) await ensureLabCa(paths, inventory.domain);
    await ensureNetwork(machines);
    // The local Python index on the bridge address (lab/pyindex.ts): lab stacks' django-ha:app.pythonIndexUrl.
    const built = await buildPythonIndex(path.join(paths.root, "pyindex"));
    const index = await startPythonIndex(built.root, path.join(paths.root, "pyindex.log"));
    log(
      `python index ${index.url}: ${built.files.map((f) => f.name).join(", ")}${built.built ? " (built)" : ""}${index.started ? "" : " (already running)"}`,
    );
    const attached = await attachVolumes(labVolumes(inventory, paths), log);
    if (attached.length) log(`volumes: ${attached.map((v) => `${v.node}-${v.purpose} ${v.loop}`).join(", ")}`);
    const acme = { directoryUrl: pebbleDirectoryUrl(), validitySeconds };
    const state: LabState = { version: 1, imageKey: image.key, imageRoot: image.root, zone: inventory.domain, stack, acme, nodes: {} };
    const context: PrepareContext = {
      paths,
      previous,
      machines,
      inventory,
      imageRoot: image.root,
      volumesOf: volumesFor(attached),
      sshPublicKey,
      keys,
      validitySeconds,
      certificateNames: loadStackSpec(stack).certificate.names,
    };
    // One node at a time (costs ~2 s). checkBootable catches an overlay whose lower dir was replaced under it:
    // seen once when another process re-extracted the image while this one mounted it (the image lock now
    // prevents that).
    for (const m of machines) state.nodes[m.name] = await prepareMachine(m, context);
    log(`prepared ${machines.length} machines (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    writeKnownHosts(paths, state);
    const boot = { log, timeoutMs: opts.readyTimeoutMs ?? 120_000, ready: {} as Record<string, number> };
    // The DNS server and the CA first: pebble's root exists only once pebble runs, and the cluster nodes boot trusting it.
    await bootAndWait(paths, state, isInfrastructure, boot);
    const changed = await refreshLabTrust(paths, state);
    log(
      `acme ${acme.directoryUrl}: certificates valid ${validitySeconds} s; root ${path.relative(process.cwd(), paths.pebbleRoots)} trusted by ${changed.length ? changed.join(", ") : "every node already"}`,
    );
    await bootAndWait(paths, state, (n) => !isInfrastructure(n), boot);
    const dns = labDns();
    const members = recordMembers(inventory).map((n) => ({ name: n.name, address: n.publicAddress }));
    await dns.setMembers(inventory.recordFqdn, members, inventory.ttl);
    log(`dns ${inventory.recordFqdn} → ${members.map((m) => m.address).join(", ")} (TTL ${inventory.ttl})`);
    fs.writeFileSync(paths.inventory, JSON.stringify(inventory, null, 2) + "\n");
    for (const hook of opts.afterBoot ?? []) await hook({ inventory, paths, log });
    const seconds = (Date.now() - t0) / 1000;
    log(`lab up: ${machines.length} machines in ${seconds.toFixed(1)} s; inventory ${path.relative(process.cwd(), paths.inventory)}`);
    return { inventory, image, ready: boot.ready, seconds };
  } finally {
    release();
  }
}

async function ensureNetwork(machines: LabMachine[]): Promise<void> {
  const links = parseLabLinks((await run({ cmd: "ip", args: ["-o", "link", "show"] })).stdout);
  if (!links.includes(LAB_NET.bridge)) for (const c of bridgeCommands()) await run(c);
  await run(nftDeleteTable(), { allowFail: true });
  await run({ cmd: "nft", args: ["-f", "-"] }, { input: nftRuleset() });
  const existing = parseLabNetns((await run({ cmd: "ip", args: ["netns", "list"] })).stdout);
  for (const m of [...machines.map((x) => ({ name: x.name, address: x.address })), OUTSIDE]) {
    if (existing.includes(netnsName(m.name))) continue;
    for (const c of namespaceCommands(m.name, m.address)) await run(c);
  }
}
