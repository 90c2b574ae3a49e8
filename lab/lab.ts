import * as fs from "node:fs";
import * as path from "node:path";
import pLimit from "p-limit";
import { Rfc2136Dns } from "../ops/dns/rfc2136";
import { dnsFor } from "../ops/targets/dns";
import { hostsInventory, loadStackSpec, recordMembers, UserError, type Inventory } from "../spec";
import { DNS_NODE, LAB_NET, labPaths, NFT_TABLE, REPO_ROOT, type LabPaths } from "./config";
import { labCgroups, removeCgroups } from "./cgroup";
import { run, sleep } from "./exec";
import { ensureImage, imageBusy, imageKey, imagePackages, mountsUnder, pruneImages, type ImageInfo } from "./image";
import { ensureSshKey, ensureTsigKey, readTsigKey, type TsigKey } from "./keys";
import { bridgeCommands, namespaceCommands, netnsName, nftDeleteTable, nftRuleset, parseLabLinks, parseLabNetns } from "./net";
import { bootNode, mountNode, NodeState, personalize, removePropagateDir, stopNode } from "./node";
import { currentKind, labMachines, nodeMounts, OUTSIDE, volumesFor, wantedPackages } from "./plan";
import { alive, findLabNspawns } from "./procs";
import { renderDnsNodeFirewall, renderNamedLocal, renderNamedOptions, renderTsigKey, renderZone, type LabMachine } from "./render";
import { labRecordDir, withLabRecord } from "./record";
import { sshCommand } from "./ssh";
import { acquireLock, readState, unknownNode, writeState, type LabState } from "./state";
import { attachVolumes, detachVolumes, labLoops, labVolumes, volumeFiles } from "./volumes";

export type Log = (line: string) => void;
const defaultLog: Log = (line) => process.stderr.write(`${line}\n`);

/** Runs after every node is ready and the record is set (the bootstrap plugs in here). */
export type AfterBootHook = (ctx: { inventory: Inventory; paths: LabPaths; log: Log }) => Promise<void>;

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
    throw new UserError(`Missing host package${missing.length > 1 ? "s" : ""} for the lab: ${missing.join(", ")}.\nInstall: apt-get install -y ${missing.join(" ")}`);
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
  if (spec.provider !== "hosts") throw new UserError(`Stack "${stack}" has django-ha:provider = "${spec.provider}": the lab boots a "hosts" stack; use --stack lab.`);
  // A failover's record (lab/record.ts) wins over the stack file: the volumes hold the databases as they are now.
  return withLabRecord(hostsInventory(spec), stack);
}

/** Boot the lab (idempotent: running nodes are left alone). */
export async function labUp(opts: LabUpOptions = {}): Promise<LabUpResult> {
  const log = opts.log ?? defaultLog;
  const t0 = Date.now();
  await preflight();
  const inventory = labInventory(opts.stack ?? "lab");
  const machines = labMachines(inventory);
  const paths = labPaths();
  const release = acquireLock(paths, "lab up");
  try {
    const running = Object.values(readState(paths)?.nodes ?? {}).some((n) => n.pid && alive(n.pid)) || findLabNspawns().size > 0;
    if (opts.rebake && running) {
      throw new UserError("`up --rebake` replaces the image running nodes are booted from: run `npm run lab -- down` first, then `up --rebake`.");
    }
    const previous = readState(paths);
    const wantedKey = imageKey(imagePackages());
    if (previous && previous.imageKey !== wantedKey && Object.values(previous.nodes).some((n) => n.pid && alive(n.pid))) {
      throw new UserError(
        `The running lab uses image ${previous.imageKey}, but the package lists now give ${wantedKey}: run \`npm run lab -- down\` first, then up.`,
      );
    }
    const image = await ensureImage({ rebake: opts.rebake, log });
    log(`image ${image.key}: ${image.baked ? `baked in ${image.seconds.toFixed(0)} s` : "cached"}`);
    const pruned = pruneImages(image.key);
    if (pruned.length) log(`removed ${pruned.length} outdated image file(s): ${pruned.join(", ")}`);
    const sshPublicKey = await ensureSshKey(paths);
    const tsig = ensureTsigKey(paths);
    await ensureNetwork(machines);
    const attached = await attachVolumes(labVolumes(inventory, paths), log);
    if (attached.length) log(`volumes: ${attached.map((v) => `${v.node}-${v.purpose} ${v.loop}`).join(", ")}`);
    const volumesOf = volumesFor(attached);
    const state: LabState = { version: 1, imageKey: image.key, imageRoot: image.root, zone: inventory.domain, stack: opts.stack ?? "lab", nodes: {} };
    // One node at a time (costs ~2 s). checkBootable catches an overlay whose lower dir was replaced under it:
    // seen once when another process re-extracted the image while this one mounted it (the image lock now
    // prevents that).
    for (const m of machines) {
      const old = previous?.nodes[m.name];
      if (old?.pid && alive(old.pid)) {
        state.nodes[m.name] = old;
        continue;
      }
      const dir = path.join(paths.nodes, m.name);
      const node: NodeState = { ...m, dir, root: path.join(dir, "root"), ...nodeMounts(m.kind, paths.share, volumesOf(m.name)), knownHosts: [] };
      await mountNode(node, image.root);
      node.knownHosts = await personalize(node, { all: machines, zone: inventory.domain, sshPublicKey, wantedPackages: wantedPackages(m.kind) });
      if (m.kind === "dns") await configureDnsNode(node, machines, inventory, tsig);
      checkBootable(node);
      state.nodes[m.name] = node;
    }
    log(`prepared ${machines.length} machines (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    writeKnownHosts(paths, state);
    const ready: Record<string, number> = {};
    for (const node of Object.values(state.nodes)) {
      if (node.pid && alive(node.pid)) continue;
      removePropagateDir(node.name);
      node.pid = bootNode(node);
      log(`${node.name.padEnd(14)} booting (pid ${node.pid})`);
    }
    writeState(paths, state);
    await Promise.all(
      Object.values(state.nodes).map(async (node) => {
        const s = Date.now();
        await waitReady(paths, node, opts.readyTimeoutMs ?? 120_000);
        ready[node.name] = (Date.now() - s) / 1000;
        log(`${node.name.padEnd(14)} ${node.address.padEnd(12)} ready in ${ready[node.name].toFixed(1)} s`);
      }),
    );
    const dns = labDns();
    const members = recordMembers(inventory).map((n) => ({ name: n.name, address: n.publicAddress }));
    await dns.setMembers(inventory.recordFqdn, members, inventory.ttl);
    log(`dns ${inventory.recordFqdn} → ${members.map((m) => m.address).join(", ")} (TTL ${inventory.ttl})`);
    fs.writeFileSync(paths.inventory, JSON.stringify(inventory, null, 2) + "\n");
    for (const hook of opts.afterBoot ?? []) await hook({ inventory, paths, log });
    const seconds = (Date.now() - t0) / 1000;
    log(`lab up: ${machines.length} machines in ${seconds.toFixed(1)} s; inventory ${path.relative(process.cwd(), paths.inventory)}`);
    return { inventory, image, ready, seconds };
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

function ownerIds(root: string, user: string): { uid: number; gid: number } {
  const line = fs.readFileSync(path.join(root, "etc/passwd"), "utf8").split("\n").find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`user ${user} missing in the image (${root}/etc/passwd)`);
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

async function configureDnsNode(node: NodeState, machines: LabMachine[], inv: Inventory, tsig: TsigKey): Promise<void> {
  const bind = ownerIds(node.root, "bind");
  const put = (file: string, content: string, mode: number, owner?: { uid: number; gid: number }) => {
    const p = path.join(node.root, file);
    fs.writeFileSync(p, content, { mode });
    fs.chmodSync(p, mode);
    if (owner) fs.chownSync(p, owner.uid, owner.gid);
  };
  const keyFile = "/etc/bind/lab-update.key";
  const zoneFile = `/var/lib/bind/db.${inv.domain}`;
  put("etc/bind/named.conf.options", renderNamedOptions(), 0o644);
  put("etc/bind/named.conf.local", renderNamedLocal(inv.domain, tsig.name, keyFile, zoneFile), 0o644);
  put(keyFile.slice(1), renderTsigKey(tsig.name, tsig.secret, tsig.algorithm), 0o640, { uid: 0, gid: bind.gid });
  const serial = Math.floor(Date.now() / 1000);
  put(zoneFile.slice(1), renderZone({ zone: inv.domain, nameServer: DNS_NODE, machines, ttl: inv.ttl, serial }), 0o644, bind);
  // Answer DNS only (SSH from the lab host): the node loads its firewall at boot, before named and sshd listen.
  put("etc/nftables.conf", renderDnsNodeFirewall(), 0o755);
  await run({ cmd: "systemctl", args: [`--root=${node.root}`, "enable", "--no-reload", "nftables.service"] });
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
    throw new Error(`${node.name}: the overlay at ${node.root} shows no valid ssh.service link (stale overlay entries); run \`npm run lab -- down\` and up again`);
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
  if (!state || !n) throw new UserError(state ? `No lab node "${node}". Lab nodes: ${Object.keys(state.nodes).join(", ")}.` : "No lab is up: run `npm run lab -- up` first.");
  return run(sshCommand(paths, n.address, remote), { allowFail: true, timeoutMs: opts.timeoutMs ?? 60_000 });
}

/** Wait until sshd answers with the pinned key and systemd says running (or degraded). */
export async function waitReady(paths: LabPaths, node: Pick<NodeState, "name" | "address" | "pid">, timeoutMs: number): Promise<string> {
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    if (node.pid && !alive(node.pid)) {
      throw new Error(`${node.name}: systemd-nspawn (pid ${node.pid}) exited during boot; see ${path.join(paths.nodes, node.name, "console.log")}`);
    }
    const r = await run(sshCommand(paths, node.address, ["systemctl", "is-system-running"], { connectTimeout: 2 }), { allowFail: true, timeoutMs: 10_000 });
    last = (r.stdout.trim() || r.stderr.trim()).split("\n").pop() ?? "";
    if (last === "running" || last === "degraded") return last;
    await sleep(last === "starting" || last === "initializing" ? 200 : 300);
  }
  throw new Error(`${node.name} (${node.address}) not ready after ${timeoutMs / 1000} s (last answer: ${last || "none"}); see ${path.join(paths.nodes, node.name, "console.log")}`);
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
        sshCommand(paths, n.address, ["sh", "-c", "systemctl is-system-running; systemctl list-units --failed --plain --no-legend | cut -d' ' -f1"]),
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
  !l.nspawns.length && !l.netns.length && !l.links.length && !l.mounts.length && !l.nftTable && !l.cgroups.length && !l.loops.length;

export interface LabDownOptions {
  /** Also remove the image cache, SSH key and TSIG key. Defaults to false. */
  purge?: boolean;
  log?: Log;
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
    removeCgroups();
    // The volume files are the data: only their loop devices go (their mounts died with the nodes).
    const detached = await detachVolumes(paths);
    if (detached.length) log(`detached ${detached.length} volume loop device${detached.length > 1 ? "s" : ""} (${detached.join(", ")}); the volume files stay in ${path.relative(process.cwd(), path.join(paths.root, "volumes"))}`);
    for (const p of [paths.nodes, paths.share, paths.state, paths.inventory, paths.knownHosts]) fs.rmSync(p, { recursive: true, force: true });
    // A bake interrupted by a crash leaves its half-made root (its mounts are gone by now).
    if (fs.existsSync(paths.images)) {
      for (const f of fs.readdirSync(paths.images)) {
        if (/\.baking$|\.tar\.zst\.tmp$/.test(f) && !imageBusy(f)) fs.rmSync(path.join(paths.images, f), { recursive: true, force: true });
      }
    }
    if (opts.purge) {
      for (const p of [paths.images, path.dirname(paths.sshKey), path.dirname(paths.tsigKey)]) fs.rmSync(p, { recursive: true, force: true });
    }
    // Lazy unmounts and namespace teardown settle asynchronously: check, briefly retrying.
    let left = await labLeftovers(paths);
    for (let i = 0; i < 20 && !isClean(left); i++) {
      await sleep(250);
      removeCgroups();
      await detachVolumes(paths);
      left = await labLeftovers(paths);
    }
    if (!isClean(left)) throw new Error(`lab down left things behind: ${JSON.stringify(left)}`);
    log(`lab down${opts.purge ? " (purged image cache and keys)" : ""}: nothing left, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
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
  const dns = dnsFor({ ...inv, dns: { ...inv.dns, keyName: key.name, algorithm: key.algorithm } }, { tsigSecret: key.secret, stack: "lab" });
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
    if (running || loops.length) throw new UserError("The lab is up (its nodes use the volumes): run `npm run lab -- down` first, then remove-volumes.");
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
    if (node.kind === "dns") throw new UserError(`${name} is the lab's DNS machine, not a cluster node: only cluster nodes can be replaced.`);
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
    node.knownHosts = await personalize(node, { all: labMachines(inventory), zone: inventory.domain, sshPublicKey: await ensureSshKey(paths), wantedPackages: wantedPackages(node.kind) });
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
