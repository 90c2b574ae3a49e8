import * as fs from "node:fs";
import { NETNS_PREFIX } from "./config";

/** The nspawn command line of a lab machine, and what identifies it as the lab's. */
export function isLabNspawn(argv: readonly string[]): boolean {
  return /systemd-nspawn$/.test(argv[0] ?? "") && argv.some((a) => a.startsWith(`--network-namespace-path=/run/netns/${NETNS_PREFIX}`));
}

/** Machine name (`-M NAME`) in an nspawn command line. Pure. */
export function machineOf(argv: readonly string[]): string | undefined {
  const i = argv.indexOf("-M");
  return i >= 0 ? argv[i + 1] : undefined;
}

function readArgv(pid: number): string[] | undefined {
  try {
    return fs
      .readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .filter((s) => s !== "");
  } catch {
    return undefined;
  }
}

function pids(): number[] {
  return fs
    .readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** Every running lab nspawn process: pid → machine name. Found from /proc, not from the state file. */
export function findLabNspawns(): Map<number, string> {
  const out = new Map<number, string>();
  for (const pid of pids()) {
    const argv = readArgv(pid);
    if (argv && isLabNspawn(argv)) out.set(pid, machineOf(argv) ?? "?");
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // A zombie has exited already.
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

function pidNamespace(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** PID (on the host) of a container's init: the nspawn child that lives in another PID namespace. */
export function containerInit(nspawnPid: number): number | undefined {
  const own = pidNamespace(nspawnPid);
  for (const pid of pids()) {
    if (parentOf(pid) !== nspawnPid) continue;
    const ns = pidNamespace(pid);
    if (ns && ns !== own) return pid;
  }
  return undefined;
}

/** Every host PID in the same PID namespace as `pid` (a container's processes). */
export function pidsInNamespaceOf(pid: number): number[] {
  const ns = pidNamespace(pid);
  if (!ns) return [];
  return pids().filter((p) => pidNamespace(p) === ns);
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}
