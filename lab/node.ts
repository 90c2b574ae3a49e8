import * as fs from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Command, run, showCommand, startDetached } from "../ops/process";
import { netnsName } from "./net";
import { alive, containerInit, pidsInNamespaceOf, signal } from "./procs";
import { LabMachine, renderHosts, renderResolvConf, renderSshdConfig, servicesToDisable } from "./render";
import { mountsUnder } from "./image";
import { nodeCgroups, removeCgroups } from "./cgroup";

/**
 * Units that cannot work in a container on this host and would only mark every node "degraded":
 * rpc_pipefs is a kernel filesystem (the kernel NFS client's), which the lab host does not have.
 */
export const LAB_MASKED_UNITS = ["run-rpc_pipefs.mount"];

/** A host directory bound into a node (not overlayfs: NFS exports need a real filesystem). */
export interface Bind {
  host: string;
  guest: string;
}

/** Everything needed to (re)boot one node; kept in .lab/state.json so power operations work across processes. */
export interface NodeState extends LabMachine {
  dir: string;
  root: string;
  binds: Bind[];
  /** Extra system calls allowed (nfs-ganesha needs open_by_handle_at). */
  syscalls: string[];
  pid?: number;
  /** known_hosts lines pinning this node's host keys. */
  knownHosts: string[];
}

/** The systemd-nspawn invocation of a node. Pure. */
export function nspawnCommand(node: Pick<NodeState, "name" | "root" | "binds" | "syscalls">): Command {
  const args = [
    "-b",
    "-D",
    node.root,
    "-M",
    node.name,
    "--register=no",
    "--keep-unit",
    "--console=pipe",
    "--resolv-conf=off",
    `--network-namespace-path=/run/netns/${netnsName(node.name)}`,
    // The node's own network namespace: CAP_NET_ADMIN there lets its nftables firewall (roles/common.ts) load,
    // as on a real machine, without touching the host's network.
    "--capability=CAP_NET_ADMIN",
  ];
  if (node.syscalls.length) args.push(`--system-call-filter=${node.syscalls.join(" ")}`);
  for (const b of node.binds) args.push(`--bind=${b.host}:${b.guest}`);
  return { cmd: "systemd-nspawn", args };
}

export const overlayMount = (lower: string, dir: string): Command => ({
  cmd: "mount",
  args: [
    "-t",
    "overlay",
    "overlay",
    "-o",
    `lowerdir=${lower},upperdir=${path.join(dir, "upper")},workdir=${path.join(dir, "work")}`,
    path.join(dir, "root"),
  ],
});

function isMounted(p: string): boolean {
  return mountsUnder(fs.readFileSync("/proc/mounts", "utf8"), p).includes(p);
}

/** Mount the node's overlay (idempotent). */
export async function mountNode(node: NodeState, imageRoot: string): Promise<void> {
  for (const d of ["upper", "work", "root"]) fs.mkdirSync(path.join(node.dir, d), { recursive: true });
  if (!isMounted(node.root)) await run(overlayMount(imageRoot, node.dir));
}

function write(root: string, file: string, content: string, mode = 0o644): void {
  const p = path.join(root, file);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content, { mode });
  fs.chmodSync(p, mode);
}

/**
 * The lab's sshd drop-in. It sorts after the roles' `00-django-ha.conf`, so the roles' settings win (sshd
 * keeps the first value it reads); it only adds what the roles leave open (UseDNS). Tested in render.test.ts.
 */
export const LAB_SSHD_DROP_IN = "10-django-ha-lab.conf";

export interface NodeIdentity {
  all: readonly LabMachine[];
  zone: string;
  sshPublicKey: string;
  /** Packages a real machine of this kind would have: other packages' services are disabled. */
  wantedPackages: readonly string[];
}

/**
 * Give a freshly mounted node its identity: machine-id, hostname, hosts, resolver, root's authorized key,
 * sshd policy and its own host keys. Returns the known_hosts lines that pin those keys.
 */
export async function personalize(node: NodeState, id: NodeIdentity): Promise<string[]> {
  const root = node.root;
  // The image has an empty machine-id and no host keys: anything there belongs to this node (an earlier
  // boot of the same upper dir), and a machine keeps its identity across a crash.
  const idFile = path.join(root, "etc/machine-id");
  if (!/^[0-9a-f]{32}$/.test(fs.existsSync(idFile) ? fs.readFileSync(idFile, "utf8").trim() : "")) {
    const machineId = (await run({ cmd: "systemd-id128", args: ["new"] })).stdout.trim();
    fs.rmSync(idFile, { force: true });
    write(root, "etc/machine-id", `${machineId}\n`, 0o444);
  }
  write(root, "etc/hostname", `${node.name}\n`);
  write(root, "etc/hosts", renderHosts(node, id.all, id.zone));
  fs.rmSync(path.join(root, "etc/resolv.conf"), { force: true });
  write(root, "etc/resolv.conf", renderResolvConf(id.zone));
  write(root, `etc/ssh/sshd_config.d/${LAB_SSHD_DROP_IN}`, renderSshdConfig());
  fs.mkdirSync(path.join(root, "root/.ssh"), { recursive: true, mode: 0o700 });
  write(root, "root/.ssh/authorized_keys", `${id.sshPublicKey.trim()}\n`, 0o600);
  const sshDir = path.join(root, "etc/ssh");
  if (!fs.existsSync(path.join(sshDir, "ssh_host_ed25519_key"))) {
    for (const f of fs.readdirSync(sshDir)) if (/^ssh_host_.*_key(\.pub)?$/.test(f)) fs.rmSync(path.join(sshDir, f));
    await run({ cmd: "ssh-keygen", args: ["-A", "-f", root] });
  }
  const pins = fs
    .readdirSync(sshDir)
    .filter((f) => /^ssh_host_.*_key\.pub$/.test(f))
    .sort()
    .map((f) => knownHostsLine(node, fs.readFileSync(path.join(sshDir, f), "utf8")));
  const disable = servicesToDisable(id.wantedPackages);
  if (disable.length) await run({ cmd: "systemctl", args: [`--root=${root}`, "disable", "--no-reload", ...disable] });
  await run({ cmd: "systemctl", args: [`--root=${root}`, "mask", "--no-reload", ...LAB_MASKED_UNITS] });
  // Host directories bound in are made here; devices (the volumes' loop devices) exist already.
  for (const b of node.binds) if (!fs.existsSync(b.host)) fs.mkdirSync(b.host, { recursive: true });
  return pins;
}

/** One known_hosts line: the node's name and address, then the public key (type and base64). Pure. */
export function knownHostsLine(node: Pick<LabMachine, "name" | "address">, publicKey: string): string {
  const [type, key] = publicKey.trim().split(/\s+/);
  return `${node.name},${node.address} ${type} ${key}`;
}

/**
 * Run `inner` after moving the shell into `cgroups` (exec keeps the PID, so nspawn starts there). The cgroup
 * paths and the command travel as arguments, never inside the script. Pure.
 */
export function inCgroups(cgroups: readonly string[], inner: Command): Command {
  const script = 'n=$1; shift; i=0; while [ "$i" -lt "$n" ]; do echo $$ > "$1/cgroup.procs"; shift; i=$((i+1)); done; exec "$@"';
  return { cmd: "sh", args: ["-c", script, "sh", String(cgroups.length), ...cgroups, inner.cmd, ...inner.args] };
}

/** Start the node's nspawn in the background in its own cgroups, console to <dir>/console.log. Returns the PID. */
export function bootNode(node: NodeState): number {
  const log = path.join(node.dir, "console.log");
  const cgroups = nodeCgroups(node.name);
  removeCgroups(node.name);
  for (const g of cgroups) fs.mkdirSync(g, { recursive: true });
  const c = inCgroups(cgroups, nspawnCommand(node));
  fs.appendFileSync(log, `\n== ${new Date().toISOString()} ${showCommand(c)}\n`);
  return startDetached(c, { log }).pid;
}

/**
 * Stop a node. Hard: SIGKILL its init (the kernel then kills every process of its PID namespace) and the
 * nspawn. Clean: SIGTERM the nspawn (systemd halts in 1–2 s), then hard after `graceMs`.
 */
export async function stopNode(pid: number, mode: "hard" | "clean", graceMs = 10_000): Promise<void> {
  if (!alive(pid)) return;
  if (mode === "clean") {
    signal(pid, "SIGTERM");
    const until = Date.now() + graceMs;
    while (alive(pid) && Date.now() < until) await sleep(100);
    if (!alive(pid)) return;
  }
  const init = containerInit(pid);
  const inside = init ? pidsInNamespaceOf(init) : [];
  if (init) signal(init, "SIGKILL");
  signal(pid, "SIGKILL");
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // No such process group left.
  }
  const until = Date.now() + 10_000;
  while ((alive(pid) || inside.some(alive)) && Date.now() < until) await sleep(50);
  if (alive(pid)) throw new Error(`nspawn ${pid} still runs after SIGKILL`);
}

/** nspawn's leftover propagation directory ("Attempted to remove disk file system" warning's subject). */
export function removePropagateDir(name: string): void {
  fs.rmSync(`/run/systemd/nspawn/propagate/${name}`, { recursive: true, force: true });
}
