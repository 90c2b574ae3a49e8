import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { acquireLock, parseHolder, pidAlive } from "../ops/lock";
import { allRolePackages } from "../roles/packages";
import { UserError } from "../model";
import { BASE_PACKAGES, DEBIAN_SUITE, IMAGE_FORMAT_VERSION, INFRA_PACKAGES, LAB_APP_PACKAGES, labPaths } from "./config";
import { Command, run } from "../ops/process";

export const HOST_SOURCES = "/etc/apt/sources.list.d/debian.sources";

/** Every package the image carries, sorted and unique: base + every role (roles/packages.ts) + lab infra + the lab's projects' own. */
export function imagePackages(): string[] {
  return [...new Set([...BASE_PACKAGES, ...allRolePackages(), ...INFRA_PACKAGES, ...LAB_APP_PACKAGES])].sort();
}

/** Cache key of an image: changes when a package list, the suite or the bake format changes. Pure. */
export function imageKey(packages: readonly string[], formatVersion = IMAGE_FORMAT_VERSION, suite = DEBIAN_SUITE): string {
  const canonical = JSON.stringify({ v: formatVersion, suite, packages: [...new Set(packages)].sort() });
  return `${suite}-v${formatVersion}-${createHash("sha256").update(canonical).digest("hex").slice(0, 16)}`;
}

/**
 * The host's deb822 sources rewritten for `suite`: every stanza keeps its mirror, components and keyring;
 * each suite it names keeps its suffix (`bookworm-updates` → `trixie-updates`, `bookworm-security` →
 * `trixie-security`). So a Debian 12 host bakes Debian 13 nodes from the mirror it is configured with. Pure.
 */
export function sourcesForSuite(text: string, suite = DEBIAN_SUITE): string {
  return text.replace(
    /^(Suites:[ \t]*)(.*)$/gim,
    (_, key: string, value: string) =>
      key +
      value
        .trim()
        .split(/\s+/)
        .map((s) => s.replace(/^[a-z]+(?=$|-)/, suite))
        .join(" "),
  );
}

/**
 * The Debian mirror URI from a deb822 sources file: the first stanza of type `deb` whose suites include
 * `suite`. Pure; throws a message that names the file when none is found.
 */
export function mirrorFromSources(text: string, suite = DEBIAN_SUITE, file = HOST_SOURCES): string {
  const stanzas = text.split(/\n\s*\n/);
  for (const stanza of stanzas) {
    const fields = new Map<string, string>();
    for (const line of stanza.split("\n")) {
      if (/^\s*#/.test(line)) continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) fields.set(m[1].toLowerCase(), m[2].trim());
    }
    const types = (fields.get("types") ?? "").split(/\s+/);
    const suites = (fields.get("suites") ?? "").split(/\s+/);
    const uri = (fields.get("uris") ?? "").split(/\s+/)[0];
    if (types.includes("deb") && suites.includes(suite) && uri) return uri;
  }
  throw new UserError(
    `No "deb" source for suite ${suite} in ${file}: add a stanza with "Suites: ${suite}" (and its URIs), or fix the file.`,
  );
}

/** Shell script run inside the chroot to install the packages. Pure (tested by equality). */
export function chrootInstallScript(packages: readonly string[]): string {
  return [
    "set -eu",
    "export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8",
    "apt-get update -qq",
    `apt-get install -y -q --no-install-recommends ${packages.join(" ")}`,
    "apt-get clean",
    "rm -rf /var/lib/apt/lists/*",
  ].join("\n");
}

export interface ImageInfo {
  key: string;
  /** Extracted root: the read-only lowerdir of every node's overlay. */
  root: string;
  tarball: string;
  baked: boolean;
  seconds: number;
}

function imageLocations(key: string) {
  const dir = path.join(labPaths().images, key);
  return {
    dir,
    root: path.join(dir, "root"),
    ready: path.join(dir, "ready.json"),
    tarball: path.join(labPaths().images, `${key}.tar.zst`),
  };
}

const tarCreate = (root: string, tarball: string): Command => ({
  cmd: "tar",
  args: ["-I", "zstd -T0 -3", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-cf", tarball, "-C", root, "."],
});
const tarExtract = (tarball: string, root: string): Command => ({
  cmd: "tar",
  args: ["-I", "zstd -T0", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", tarball, "-C", root],
});

/**
 * The lab image: reuse the extracted root, else extract the cached tarball, else bake (the only step that
 * uses the network: debootstrap + apt in a chroot on the host's network).
 */
export async function ensureImage(opts: { rebake?: boolean; log?: (s: string) => void } = {}): Promise<ImageInfo> {
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const packages = imagePackages();
  const key = imageKey(packages);
  const loc = imageLocations(key);
  const t0 = Date.now();
  if (!opts.rebake && fs.existsSync(loc.ready)) {
    return { key, root: loc.root, tarball: loc.tarball, baked: false, seconds: (Date.now() - t0) / 1000 };
  }
  // Tests of other parts boot throwaway nodes from the same image: one process bakes or extracts, others wait.
  const release = await imageLock(`${loc.dir}.lock`, log);
  try {
    if (!opts.rebake && fs.existsSync(loc.ready)) {
      return { key, root: loc.root, tarball: loc.tarball, baked: false, seconds: (Date.now() - t0) / 1000 };
    }
    return await makeImage({ key, packages, rebake: !!opts.rebake, log, startedAt: t0 });
  } finally {
    release();
  }
}

/** One process bakes or extracts an image at a time; the others wait (ops/lock: a dead holder frees it at once). */
function imageLock(file: string, log: (s: string) => void, timeoutMs = 30 * 60_000): Promise<() => void> {
  return acquireLock(file, "a lab image bake or extraction", {
    timeoutMs,
    onWait: (h) => log(`image: waiting for pid ${h.pid} (baking or extracting the same image)`),
    intervalMs: 1000,
  });
}

/** One image to make (under the image lock): its key and packages, whether to bake anew, progress, and the start time. */
interface ImageJob {
  key: string;
  packages: string[];
  rebake: boolean;
  log: (s: string) => void;
  startedAt: number;
}

/** Extract the cached tarball, or bake (rebake, or no tarball yet). */
async function makeImage(job: ImageJob): Promise<ImageInfo> {
  const { key, log } = job;
  const loc = imageLocations(key);
  const made = (baked: boolean): ImageInfo => ({
    key,
    root: loc.root,
    tarball: loc.tarball,
    baked,
    seconds: (Date.now() - job.startedAt) / 1000,
  });
  if (!job.rebake && fs.existsSync(loc.tarball)) {
    log(`image ${key}: extracting cached ${path.basename(loc.tarball)}`);
    fs.rmSync(loc.dir, { recursive: true, force: true });
    fs.mkdirSync(loc.root, { recursive: true });
    await run(tarExtract(loc.tarball, loc.root));
    fs.writeFileSync(loc.ready, JSON.stringify({ key, extractedAt: new Date().toISOString() }) + "\n");
    return made(false);
  }
  await bakeImage(key, job.packages, log);
  return made(true);
}

async function bakeImage(key: string, packages: string[], log: (s: string) => void): Promise<void> {
  const loc = imageLocations(key);
  // The host may run another release (Debian 12 bakes Debian 13): its mirrors, the nodes' suite.
  const sources = sourcesForSuite(fs.readFileSync(HOST_SOURCES, "utf8"));
  const mirror = mirrorFromSources(sources);
  if (!fs.existsSync(`/usr/share/debootstrap/scripts/${DEBIAN_SUITE}`)) {
    throw new UserError(
      `debootstrap on this host has no script for ${DEBIAN_SUITE} (/usr/share/debootstrap/scripts/${DEBIAN_SUITE}): upgrade debootstrap (Debian 12: apt-get install debootstrap from bookworm-updates, 1.0.128+nmu2+deb12u2 or later).`,
    );
  }
  const work = `${loc.dir}.baking`;
  const root = path.join(work, "root");
  await unmountUnder(work);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const t0 = Date.now();
  const step = (s: string) => log(`image ${key}: ${s} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  step(`debootstrap ${DEBIAN_SUITE} minbase from ${mirror}`);
  await run({ cmd: "debootstrap", args: ["--variant=minbase", DEBIAN_SUITE, root, mirror] });
  // The host's mirrors for the nodes' suite (main + updates + security), no services started while installing.
  fs.rmSync(path.join(root, "etc/apt/sources.list"), { force: true });
  fs.writeFileSync(path.join(root, "etc/apt/sources.list.d/debian.sources"), sources);
  fs.writeFileSync(path.join(root, "usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  fs.copyFileSync("/etc/resolv.conf", path.join(root, "etc/resolv.conf"));
  const mounts: string[] = [];
  try {
    for (const [fstype, src, dst, extra] of [
      ["proc", "proc", "proc", []],
      ["sysfs", "sysfs", "sys", []],
      ["", "/dev", "dev", ["--bind"]],
      ["devpts", "devpts", "dev/pts", []],
    ] as [string, string, string, string[]][]) {
      const target = path.join(root, dst);
      await run({ cmd: "mount", args: [...(fstype ? ["-t", fstype] : []), ...extra, src, target] });
      mounts.unshift(target);
    }
    step(`installing ${packages.length} packages`);
    await run({ cmd: "chroot", args: [root, "/bin/sh", "-c", chrootInstallScript(packages)] });
  } finally {
    for (const m of mounts) await run({ cmd: "umount", args: ["-l", m] }, { allowFail: true });
  }
  // Node-specific identity is written per node: empty machine-id, no host keys, no resolv.conf.
  fs.rmSync(path.join(root, "usr/sbin/policy-rc.d"), { force: true });
  fs.writeFileSync(path.join(root, "etc/machine-id"), "");
  // Lab nodes are not cloud machines: cloud-init (baked for the user-data tests) stays off unless a test node removes this.
  fs.writeFileSync(path.join(root, "etc/cloud/cloud-init.disabled"), "django-ha lab image: cloud-init runs only where a test enables it\n");
  fs.rmSync(path.join(root, "var/lib/dbus/machine-id"), { force: true });
  fs.rmSync(path.join(root, "etc/resolv.conf"), { force: true });
  for (const f of fs.readdirSync(path.join(root, "etc/ssh"))) {
    if (/^ssh_host_.*_key(\.pub)?$/.test(f)) fs.rmSync(path.join(root, "etc/ssh", f));
  }
  fs.writeFileSync(path.join(root, "etc/django-ha-lab-image"), `${key}\n${packages.join("\n")}\n`);
  step("compressing tar.zst");
  const tmpTar = `${loc.tarball}.tmp`;
  await run(tarCreate(root, tmpTar));
  fs.renameSync(tmpTar, loc.tarball);
  fs.rmSync(loc.dir, { recursive: true, force: true });
  fs.renameSync(work, loc.dir);
  fs.writeFileSync(loc.ready, JSON.stringify({ key, bakedAt: new Date().toISOString(), seconds: (Date.now() - t0) / 1000 }) + "\n");
  step(`done, ${(fs.statSync(loc.tarball).size / 1e6).toFixed(0)} MB`);
}

/** Mount points at or below `dir`, deepest first, read from /proc/mounts (octal escapes decoded). */
export function mountsUnder(procMounts: string, dir: string): string[] {
  const base = dir.replace(/\/+$/, "");
  return procMounts
    .split("\n")
    .map((l) => l.split(" ")[1])
    .filter((m): m is string => !!m)
    .map((m) => m.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === base || m.startsWith(`${base}/`))
    .sort((a, b) => b.length - a.length);
}

/** Unmount everything under `dir` (lazy), deepest first. */
export async function unmountUnder(dir: string): Promise<string[]> {
  const found = mountsUnder(fs.readFileSync("/proc/mounts", "utf8"), dir);
  for (const m of found) await run({ cmd: "umount", args: ["-l", m] }, { allowFail: true });
  return found;
}

/**
 * Remove cached images other than `keep` (a package list changed, so they will not be booted again).
 * Only called when no node runs on them (`up` refuses to change the image of a running lab).
 */
export function pruneImages(keep: string): string[] {
  const dir = labPaths().images;
  if (!fs.existsSync(dir)) return [];
  const removed: string[] = [];
  for (const f of fs.readdirSync(dir)) {
    if (f === keep || f === `${keep}.tar.zst` || f.endsWith(".lock") || imageBusy(f)) continue;
    if (mountsUnder(fs.readFileSync("/proc/mounts", "utf8"), path.join(dir, f)).length) continue;
    fs.rmSync(path.join(dir, f), { recursive: true, force: true });
    removed.push(f);
  }
  return removed;
}

/** Whether another process holds the lock of the image this cache entry belongs to (baking or extracting). */
export function imageBusy(entry: string): boolean {
  const key = entry.replace(/(\.baking|\.tar\.zst|\.tar\.zst\.tmp)$/, "");
  const lock = path.join(labPaths().images, `${key}.lock`);
  let text: string;
  try {
    text = fs.readFileSync(lock, "utf8");
  } catch {
    return false;
  }
  const holder = parseHolder(text);
  return !!holder && pidAlive(holder.pid);
}
