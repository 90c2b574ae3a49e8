import * as fs from "node:fs";
import * as path from "node:path";
import pLimit from "p-limit";
import { Rfc2136Dns } from "../ops/dns/rfc2136";
import { dnsFor } from "../ops/targets/dns";
import { hostsInventory, loadStackSpec, recordMembers, UserError, type Inventory } from "../model";
import { ACME_NODE, DEFAULT_ACME_VALIDITY_SECONDS, LAB_NET, labPaths, NFT_TABLE, REPO_ROOT, type LabPaths } from "./config";
import { labCgroups, removeCgroups } from "./cgroup";
import { run } from "../ops/process";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureImage, imageBusy, imageKey, imagePackages, mountsUnder, pruneImages, type ImageInfo } from "./image";
import { configureAcmeNode, configureDnsNode } from "./infra";
import { ensureAcmeTsigKey, ensureHealthTsigKey, ensureSshKey, ensureTsigKey, readTsigKey, type TsigKey } from "./keys";
import { ensureLabCa, fetchPebbleRoot, installTrust, pebbleDirectoryUrl, renderPebbleConfig } from "./pebble";
import { bridgeCommands, namespaceCommands, netnsName, nftDeleteTable, nftRuleset, parseLabLinks, parseLabNetns } from "./net";
import { bootNode, mountNode, NodeState, personalize, removePropagateDir, stopNode } from "./node";
import { currentKind, labMachines, nodeMounts, OUTSIDE, volumesFor, wantedPackages } from "./plan";
import { alive, findLabNspawns } from "./procs";
import { buildPythonIndex, findIndexServers, startPythonIndex, stopPythonIndex } from "./pyindex";
import { isInfrastructure, type LabMachine } from "./render";
import { labRecordDir, withLabRecord } from "./record";
import { sshCommand } from "./ssh";
import { acquireLock, readState, unknownNode, writeState, type LabState } from "./state";
import { attachVolumes, detachVolumes, labLoops, labVolumes, volumeFiles } from "./volumes";

export type Log = (line: string) => void;
const defaultLog: Log = (line) => process.stderr.write(`${line}\n`);

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

/** Root, and the host packages of lab/host-packages.txt, before anything is touched. */
export async function preflight(opts: { uid?: number; packagesFile?: string } = {}): Promise<void> {
  const uid = opts.uid ?? (typeof process.getuid === "function" ? process.getuid() : 0);
  if (uid !== 0) {
    throw new UserError("The lab needs root (network namespaces, mounts, systemd-nspawn): run it as root, e.g. `sudo npm run lab -- up`.");
  }
  const wanted = hostPackages(opts.packagesFile);
  const missing: string[] = [];
  for (const p of wanted) {
    const r = await run({ cmd: "dpkg-query", args: ["-W", "-f=${Status}", p] }, { allowFail: true });
    if (!r.stdout.includes("install ok installed")) missing.push(p);
  }
  if (missing.length) {
    throw new UserError(
      `Missing host package${missing.length > 1 ? "s" : ""} for the lab: ${missing.join(", ")}.\nInstall: apt-get install -y ${missing.join(" ")}`,
    );
  }
}

export function hostPackages(file = path.join(REPO_ROOT, "lab", "host-packages.txt")): string[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean);
}

/** The lab's inventory of a stack (the same shape a cloud stack outputs). */
export function labInventory(stack = "lab"): Inventory {
  const spec = loadStackSpec(stack);
  if (spec.provider !== "hosts")
    throw new UserError(`Stack "${stack}" has django-ha:provider = "${spec.provider}": the lab boots a "hosts" stack; use --stack lab.`);
  // A failover's record (lab/record.ts) wins over the stack file: the volumes hold the databases as they are now.
  return withLabRecord(hostsInventory(spec), stack);
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

const trustedCerts = (paths: Pick<LabPaths, "labCa" | "pebbleRoots">) => ({
  labCa: fs.readFileSync(paths.labCa, "utf8"),
  pebbleRoot: fs.readFileSync(paths.pebbleRoots, "utf8"),
});

/**
 * Fetch pebble's root (it makes a new one at every start) and put it with the lab CA into every node's trust
 * store. Cluster nodes not booted yet get it before their first boot; running ones (the infrastructure, or all
 * after pebble was started again) get it in place. Returns the nodes whose store changed.
 */
export async function refreshLabTrust(paths: LabPaths, state: LabState): Promise<string[]> {
  await fetchPebbleRoot(paths);
  const certs = trustedCerts(paths);
  const limit = pLimit(2);
  const changed = await Promise.all(
    Object.values(state.nodes).map((n) => limit(async () => ((await installTrust(n.root, certs)) ? n.name : ""))),
  );
  return changed.filter(Boolean);
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

/** The node's merged root must show sshd enabled as a real symlink, or it will boot without sshd. */
function checkBootable(node: NodeState): void {
  const link = path.join(node.root, "etc/systemd/system/multi-user.target.wants/ssh.service");
  let ok = false;
  try {
    ok = fs.lstatSync(link).isSymbolicLink() && fs.existsSync(link);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new Error(
      `${node.name}: the overlay at ${node.root} shows no valid ssh.service link (stale overlay entries); run \`npm run lab -- down\` and up again`,
    );
  }
}

function writeKnownHosts(paths: LabPaths, state: LabState): void {
  fs.mkdirSync(path.dirname(paths.knownHosts), { recursive: true });
  const lines = Object.values(state.nodes).flatMap((n) => n.knownHosts);
  fs.writeFileSync(paths.knownHosts, lines.join("\n") + "\n", { mode: 0o644 });
}

/** Run a command on a node over SSH (pinned key). */
export async function labSsh(node: string, remote: string[], opts: { timeoutMs?: number } = {}) {
  const paths = labPaths();
  const state = readState(paths);
  const n = state?.nodes[node];
  if (!state || !n)
    throw new UserError(
      state ? `No lab node "${node}". Lab nodes: ${Object.keys(state.nodes).join(", ")}.` : "No lab is up: run `npm run lab -- up` first.",
    );
  return run(sshCommand(paths, n.address, remote), { allowFail: true, timeoutMs: opts.timeoutMs ?? 60_000 });
}

/** Wait until sshd answers with the pinned key and systemd says running (or degraded). */
export async function waitReady(paths: LabPaths, node: Pick<NodeState, "name" | "address" | "pid">, timeoutMs: number): Promise<string> {
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    if (node.pid && !alive(node.pid)) {
      throw new Error(
        `${node.name}: systemd-nspawn (pid ${node.pid}) exited during boot; see ${path.join(paths.nodes, node.name, "console.log")}`,
      );
    }
    const r = await run(sshCommand(paths, node.address, ["systemctl", "is-system-running"], { connectTimeout: 2 }), {
      allowFail: true,
      timeoutMs: 10_000,
    });
    last = (r.stdout.trim() || r.stderr.trim()).split("\n").pop() ?? "";
    if (last === "running" || last === "degraded") return last;
    await sleep(last === "starting" || last === "initializing" ? 200 : 300);
  }
  throw new Error(
    `${node.name} (${node.address}) not ready after ${timeoutMs / 1000} s (last answer: ${last || "none"}); see ${path.join(paths.nodes, node.name, "console.log")}`,
  );
}

export interface NodeStatus {
  name: string;
  address: string;
  kind: string;
  pid?: number;
  running: boolean;
  /** systemctl is-system-running over SSH, or the SSH error. */
  system: string;
  failedUnits: string[];
}

/** Per machine: process alive, and what systemd says over SSH. */
export async function labStatus(): Promise<NodeStatus[]> {
  const paths = labPaths();
  const state = readState(paths);
  if (!state) return [];
  // Roles as the stack says now (a failover recorded in django-ha:primary changes them), not as at `up`.
  const inventory = labInventory(state.stack ?? "lab");
  return Promise.all(
    Object.values(state.nodes).map(async (n): Promise<NodeStatus> => {
      const running = !!n.pid && alive(n.pid);
      const kind = currentKind(n, inventory);
      if (!running) return { name: n.name, address: n.address, kind, pid: n.pid, running, system: "stopped", failedUnits: [] };
      const r = await run(
        sshCommand(paths, n.address, [
          "sh",
          "-c",
          "systemctl is-system-running; systemctl list-units --failed --plain --no-legend | cut -d' ' -f1",
        ]),
        { allowFail: true, timeoutMs: 10_000 },
      );
      const lines = r.stdout.trim().split("\n").filter(Boolean);
      return {
        name: n.name,
        address: n.address,
        kind,
        pid: n.pid,
        running,
        system: r.code === 255 ? `ssh failed: ${r.stderr.trim()}` : (lines[0] ?? "?"),
        failedUnits: lines.slice(1),
      };
    }),
  );
}

/** The running lab's ACME CA: its directory, certificate lifetime and the files clients verify with. */
export interface LabAcme {
  directoryUrl: string;
  validitySeconds: number;
  /** pebble's issuing root: what clients of the cluster verify against (curl --cacert). */
  roots: string;
  /** The lab CA: what clients of pebble itself verify against. */
  labCa: string;
}

export function labAcme(paths: LabPaths = labPaths()): LabAcme | undefined {
  const acme = readState(paths)?.acme;
  return acme && { ...acme, roots: paths.pebbleRoots, labCa: paths.labCa };
}

/** What the lab leaves on the host, found by name prefix and from /proc (not from the state file). */
export interface LabLeftovers {
  nspawns: number[];
  netns: string[];
  links: string[];
  mounts: string[];
  nftTable: boolean;
  cgroups: string[];
  /** Loop devices still attached to the lab's volume files. */
  loops: string[];
  /** The local Python index's server processes (lab/pyindex.ts). */
  pyindex: number[];
}

export async function labLeftovers(paths: LabPaths = labPaths()): Promise<LabLeftovers> {
  const nft = await run({ cmd: "nft", args: ["list", "tables"] }, { allowFail: true });
  return {
    nspawns: [...findLabNspawns().keys()],
    netns: parseLabNetns((await run({ cmd: "ip", args: ["netns", "list"] })).stdout),
    links: parseLabLinks((await run({ cmd: "ip", args: ["-o", "link", "show"] })).stdout),
    mounts: labMounts(paths),
    nftTable: nft.stdout.split("\n").some((l) => l.trim() === `table inet ${NFT_TABLE}`),
    cgroups: labCgroups(),
    loops: await labLoops(paths),
    pyindex: findIndexServers(),
  };
}

/** Mounts under .lab/, deepest first, except those of a bake another live process runs right now. */
function labMounts(paths: LabPaths): string[] {
  return mountsUnder(fs.readFileSync("/proc/mounts", "utf8"), paths.root).filter((m) => {
    const rel = path.relative(paths.images, m);
    if (rel.startsWith("..")) return true;
    return !imageBusy(rel.split(path.sep)[0]);
  });
}

export const isClean = (l: LabLeftovers) =>
  !l.nspawns.length &&
  !l.netns.length &&
  !l.links.length &&
  !l.mounts.length &&
  !l.nftTable &&
  !l.cgroups.length &&
  !l.loops.length &&
  !l.pyindex.length;

export interface LabDownOptions {
  /** Also remove the image cache, the SSH key, the TSIG keys and the lab CA. Defaults to false. */
  purge?: boolean;
  log?: Log;
}

/**
 * The files of a running lab (node roots, state, inventory, pinned host keys, pebble's certificates) and any
 * half-made image of an interrupted bake; with `purge` also the image cache, the keys and the lab CA.
 */
function removeRunFiles(paths: LabPaths, purge: boolean): void {
  // pebble's root and listener certificate died with it (a new pebble has new ones); the lab CA stays, like the SSH key.
  for (const p of [
    paths.nodes,
    paths.share,
    paths.state,
    paths.inventory,
    paths.knownHosts,
    paths.pebbleRoots,
    paths.pebbleCert,
    paths.pebbleKey,
  ])
    fs.rmSync(p, { recursive: true, force: true });
  // A bake interrupted by a crash leaves its half-made root (its mounts are gone by now).
  if (fs.existsSync(paths.images)) {
    for (const f of fs.readdirSync(paths.images)) {
      if (/\.baking$|\.tar\.zst\.tmp$/.test(f) && !imageBusy(f)) fs.rmSync(path.join(paths.images, f), { recursive: true, force: true });
    }
  }
  if (purge) {
    for (const p of [
      paths.images,
      path.dirname(paths.sshKey),
      path.dirname(paths.tsigKey),
      path.dirname(paths.labCa),
      paths.acmeTsigKey,
      paths.healthTsigKey,
    ])
      fs.rmSync(p, { recursive: true, force: true });
  }
}

/**
 * Remove every process, mount, namespace, link and nft table the lab made — also after a crash or an
 * interrupted `up` (leftovers are found by prefix and from /proc). Safe to run twice. Throws if anything remains.
 */
export async function labDown(opts: LabDownOptions = {}): Promise<LabLeftovers> {
  const log = opts.log ?? defaultLog;
  const t0 = Date.now();
  await preflight();
  const paths = labPaths();
  const release = acquireLock(paths, "lab down");
  try {
    const state = readState(paths);
    const pids = new Map<number, string>(findLabNspawns());
    for (const n of Object.values(state?.nodes ?? {})) if (n.pid && alive(n.pid)) pids.set(n.pid, n.name);
    const limit = pLimit(8);
    await Promise.all(
      [...pids].map(([pid, name]) =>
        limit(async () => {
          const s = Date.now();
          await stopNode(pid, "clean", 8_000);
          removePropagateDir(name);
          log(`${name.padEnd(14)} stopped in ${((Date.now() - s) / 1000).toFixed(1)} s`);
        }),
      ),
    );
    const unmounted = labMounts(paths);
    for (const m of unmounted) await run({ cmd: "umount", args: ["-l", m] }, { allowFail: true });
    if (unmounted.length) log(`unmounted ${unmounted.length} mount${unmounted.length > 1 ? "s" : ""}`);
    for (const ns of parseLabNetns((await run({ cmd: "ip", args: ["netns", "list"] })).stdout)) {
      await run({ cmd: "ip", args: ["netns", "delete", ns] }, { allowFail: true });
    }
    for (const link of parseLabLinks((await run({ cmd: "ip", args: ["-o", "link", "show"] })).stdout)) {
      await run({ cmd: "ip", args: ["link", "delete", link] }, { allowFail: true });
    }
    await run(nftDeleteTable(), { allowFail: true });
    const stoppedIndex = stopPythonIndex();
    if (stoppedIndex.length) log(`python index stopped (pid ${stoppedIndex.join(", ")})`);
    removeCgroups();
    // The volume files are the data: only their loop devices go (their mounts died with the nodes).
    const detached = await detachVolumes(paths);
    if (detached.length)
      log(
        `detached ${detached.length} volume loop device${detached.length > 1 ? "s" : ""} (${detached.join(", ")}); the volume files stay in ${path.relative(process.cwd(), path.join(paths.root, "volumes"))}`,
      );
    removeRunFiles(paths, !!opts.purge);
    // Lazy unmounts and namespace teardown settle asynchronously: check, briefly retrying.
    let left = await labLeftovers(paths);
    for (let i = 0; i < 20 && !isClean(left); i++) {
      await sleep(250);
      removeCgroups();
      await detachVolumes(paths);
      left = await labLeftovers(paths);
    }
    if (!isClean(left)) throw new Error(`lab down left things behind: ${JSON.stringify(left)}`);
    log(
      `lab down${opts.purge ? " (purged image cache, keys and the lab CA)" : " (pebble's root gone with it; the lab CA and keys kept)"}: nothing left, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    return left;
  } finally {
    release();
  }
}

/** The lab's DnsOperations: its inventory's RFC 2136 target (dnsFor), signed with the lab's TSIG key file. */
export function labDns(): Rfc2136Dns {
  const paths = labPaths();
  const key = readTsigKey(paths);
  const inv = fs.existsSync(paths.inventory) ? (JSON.parse(fs.readFileSync(paths.inventory, "utf8")) as Inventory) : labInventory();
  if (inv.dns.kind !== "rfc2136") throw new Error(`lab inventory has DNS kind ${inv.dns.kind}, expected rfc2136`);
  // The key file is what the lab DNS server was configured with: its name and algorithm win.
  const dns = dnsFor(
    { ...inv, dns: { ...inv.dns, keyName: key.name, algorithm: key.algorithm } },
    { tsigSecret: key.secret, stack: "lab" },
  );
  if (!(dns instanceof Rfc2136Dns)) throw new Error(`lab DNS is ${dns.describe}, expected rfc2136`);
  return dns;
}

/**
 * Delete the lab's volume files: the databases and shares of every lab stack. Only while no lab runs (their
 * loop devices are detached by `down`). The caller asks first. Returns the files removed.
 */
export async function labRemoveVolumes(opts: { log?: Log } = {}): Promise<string[]> {
  const log = opts.log ?? defaultLog;
  await preflight();
  const paths = labPaths();
  const release = acquireLock(paths, "lab remove-volumes");
  try {
    const running = Object.values(readState(paths)?.nodes ?? {}).some((n) => n.pid && alive(n.pid)) || findLabNspawns().size > 0;
    const loops = await labLoops(paths);
    if (running || loops.length)
      throw new UserError("The lab is up (its nodes use the volumes): run `npm run lab -- down` first, then remove-volumes.");
    const files = volumeFiles(paths);
    for (const f of files) fs.rmSync(f);
    // The failover records describe those databases: gone with them.
    fs.rmSync(labRecordDir(paths), { recursive: true, force: true });
    log(files.length ? `removed ${files.length} volume file(s): ${files.map((f) => path.basename(f)).join(", ")}` : "no volume files");
    return files;
  } finally {
    release();
  }
}

/**
 * Replace a node's machine and keep its volumes, as a cloud replacement does: stop it, throw its root disk away
 * (a new empty overlay upper dir: new machine-id, new host keys), boot it with the same volume devices, and wait
 * until it is ready. The bootstrap then has to make it its role again. Returns the seconds it took.
 */
export async function labReplaceMachine(name: string, opts: { log?: Log; readyTimeoutMs?: number } = {}): Promise<number> {
  const log = opts.log ?? defaultLog;
  const t0 = Date.now();
  const paths = labPaths();
  const release = acquireLock(paths, `lab replace ${name}`);
  try {
    const state = readState(paths);
    const node = state?.nodes[name];
    if (!state || !node) throw unknownNode(paths, name);
    if (isInfrastructure(node))
      throw new UserError(
        `${name} is the lab's ${node.kind === "dns" ? "DNS machine" : "ACME CA"}, not a cluster node: only cluster nodes can be replaced.`,
      );
    const pids = [...findLabNspawns()].filter(([, m]) => m === name).map(([p]) => p);
    if (node.pid && !pids.includes(node.pid)) pids.push(node.pid);
    for (const pid of pids) await stopNode(pid, "clean", 8_000);
    removePropagateDir(name);
    removeCgroups(name);
    for (let i = 0; i < 40 && mountsUnder(fs.readFileSync("/proc/mounts", "utf8"), node.root).length; i++) {
      await run({ cmd: "umount", args: [node.root] }, { allowFail: true });
      if (mountsUnder(fs.readFileSync("/proc/mounts", "utf8"), node.root).length) await sleep(250);
    }
    for (const d of ["upper", "work"]) fs.rmSync(path.join(node.dir, d), { recursive: true, force: true });
    await mountNode(node, state.imageRoot);
    const inventory = JSON.parse(fs.readFileSync(paths.inventory, "utf8")) as Inventory;
    node.knownHosts = await personalize(node, {
      all: labMachines(inventory),
      zone: inventory.domain,
      sshPublicKey: await ensureSshKey(paths),
      wantedPackages: wantedPackages(node.kind),
    });
    // A new root disk: it trusts the lab CA and pebble's root before it boots, as every lab node does.
    await installTrust(node.root, trustedCerts(paths));
    checkBootable(node);
    writeKnownHosts(paths, state);
    node.pid = bootNode(node);
    writeState(paths, state);
    log(`${name.padEnd(14)} new machine (empty root disk, same volumes) booting (pid ${node.pid})`);
    await waitReady(paths, node, opts.readyTimeoutMs ?? 120_000);
    const seconds = (Date.now() - t0) / 1000;
    log(`${name.padEnd(14)} replaced and ready in ${seconds.toFixed(1)} s`);
    return seconds;
  } finally {
    release();
  }
}
