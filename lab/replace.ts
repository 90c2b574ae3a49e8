/** `lab replace`: a new machine for a node, keeping its volumes, as a cloud replacement does. */
import * as fs from "node:fs";
import * as path from "node:path";
import { UserError, type Inventory } from "../model";
import { labPaths } from "./config";
import { removeCgroups } from "./cgroup";
import { run } from "../ops/process";
import { setTimeout as sleep } from "node:timers/promises";
import { mountsUnder } from "./image";
import { ensureSshKey } from "./keys";
import { installTrust } from "./pebble";
import { bootNode, mountNode, personalize, removePropagateDir, stopNode } from "./node";
import { labMachines, wantedPackages } from "./plan";
import { findLabNspawns } from "./procs";
import { isInfrastructure } from "./render";
import { acquireLock, readState, unknownNode, writeState } from "./state";
import { checkBootable, trustedCerts, waitReady, writeKnownHosts } from "./boot";
import { defaultLog, type Log } from "./log";

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
