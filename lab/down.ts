/** `lab down` and what it finds: everything the lab left on the host, and the volume files (`remove-volumes`). */
import * as fs from "node:fs";
import * as path from "node:path";
import pLimit from "p-limit";
import { UserError } from "../model";
import { labPaths, NFT_TABLE, type LabPaths } from "./config";
import { labCgroups, removeCgroups } from "./cgroup";
import { run } from "../ops/process";
import { setTimeout as sleep } from "node:timers/promises";
import { imageBusy, mountsUnder } from "./image";
import { nftDeleteTable, parseLabLinks, parseLabNetns } from "./net";
import { removePropagateDir, stopNode } from "./node";
import { alive, findLabNspawns } from "./procs";
import { findIndexServers, stopPythonIndex } from "./pyindex";
import { labRecordDir } from "./record";
import { acquireLock, readState } from "./state";
import { detachVolumes, labLoops, volumeFiles } from "./volumes";
import { defaultLog, type Log } from "./log";
import { preflight } from "./preflight";

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
