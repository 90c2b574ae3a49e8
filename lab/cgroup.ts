import * as fs from "node:fs";
import * as path from "node:path";

/** Parent cgroup of every lab node (one child cgroup per node). */
export const CGROUP_PARENT = "django-ha-lab";

/**
 * The cgroup hierarchies systemd inside a node uses: the named v1 `name=systemd` one and the unified (v2)
 * one, from /proc/mounts. Pure.
 */
export function systemdCgroupRoots(procMounts: string): string[] {
  const roots: string[] = [];
  for (const line of procMounts.split("\n")) {
    const [, mountpoint, fstype, options] = line.split(" ");
    if (!mountpoint) continue;
    if (fstype === "cgroup" && options?.split(",").includes("name=systemd")) roots.push(mountpoint);
    if (fstype === "cgroup2") roots.push(mountpoint);
  }
  return roots;
}

/**
 * Each node's nspawn gets its own cgroup: nspawn without a systemd host (and with --keep-unit) nests the
 * container under the cgroup it was started in, so nodes started from one process would share
 * `/payload` and their systemds would remove each other's unit cgroups (units failing with 219/CGROUP).
 */
export function nodeCgroups(name: string, procMounts = fs.readFileSync("/proc/mounts", "utf8")): string[] {
  return systemdCgroupRoots(procMounts).map((r) => path.join(r, CGROUP_PARENT, name));
}

/** Every cgroup directory at or below `dir`, deepest first. */
function cgroupTree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    out.push(d);
  };
  walk(dir);
  return out.sort((a, b) => b.length - a.length);
}

/** Remove a node's cgroups (its processes must be gone); `name` undefined = every lab cgroup. */
export function removeCgroups(name?: string): string[] {
  const left: string[] = [];
  for (const root of systemdCgroupRoots(fs.readFileSync("/proc/mounts", "utf8"))) {
    const base = name ? path.join(root, CGROUP_PARENT, name) : path.join(root, CGROUP_PARENT);
    for (const d of cgroupTree(base)) {
      try {
        fs.rmdirSync(d);
      } catch {
        left.push(d);
      }
    }
  }
  return left;
}

/** Lab cgroups still present (leftover check). */
export function labCgroups(): string[] {
  return systemdCgroupRoots(fs.readFileSync("/proc/mounts", "utf8"))
    .map((r) => path.join(r, CGROUP_PARENT))
    .filter((d) => fs.existsSync(d));
}
