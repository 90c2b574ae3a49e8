/**
 * A lab node's boot: the certificates it trusts (the lab CA and pebble's root), the check that its root will start
 * sshd, the pinned host keys, and waiting until it is ready. Shared by `up`, a machine replacement and the lab's power.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import pLimit from "p-limit";
import type { LabPaths } from "./config";
import { run } from "../ops/process";
import { setTimeout as sleep } from "node:timers/promises";
import { fetchPebbleRoot, installTrust } from "./pebble";
import { NodeState } from "./node";
import { alive } from "./procs";
import { sshCommand } from "./ssh";
import type { LabState } from "./state";

export const trustedCerts = (paths: Pick<LabPaths, "labCa" | "pebbleRoots">) => ({
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

/** The node's merged root must show sshd enabled as a real symlink, or it will boot without sshd. */
export function checkBootable(node: NodeState): void {
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

export function writeKnownHosts(paths: LabPaths, state: LabState): void {
  fs.mkdirSync(path.dirname(paths.knownHosts), { recursive: true });
  const lines = Object.values(state.nodes).flatMap((n) => n.knownHosts);
  fs.writeFileSync(paths.knownHosts, lines.join("\n") + "\n", { mode: 0o644 });
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
