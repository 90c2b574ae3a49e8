#!/usr/bin/env tsx
/**
 * The local lab: real Debian 13 nodes (systemd-nspawn) on one machine.
 *   npm run lab -- up [--rebake] [--stack lab] [--acme-validity <seconds>]
 *   npm run lab -- status
 *   npm run lab -- ssh <node> [cmd…]
 *   npm run lab -- down [--purge]
 *   npm run lab -- replace <node> [--yes]
 *   npm run lab -- remove-volumes [--yes] [--dry-run]
 *   npm run lab -- fence <node> [--yes] [--dry-run]      (hard power-off, as the failover runbook fences)
 *   npm run lab -- start <node> [--dry-run]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { UserError } from "../model/errors";
import type { Inventory } from "../model";
import { ACME_NODE, DEFAULT_ACME_VALIDITY_SECONDS, labPaths } from "../lab/config";
import type { PowerOperations } from "../ops/power/types";
import { confirm, elapsed, main } from "./cli";

/**
 * The modules the lab's commands run on, imported when a command runs (after commander parsed the arguments):
 * `--help` and a usage error load commander, this file and the lab's constants only (scripts/startup.test.ts).
 */
async function lab() {
  const [up, down, status, inventory, replace, preflight, pebble, processes, volumes, ssh, power, state, bootstrap, targets, model] =
    await Promise.all([
      import("../lab/up"),
      import("../lab/down"),
      import("../lab/status"),
      import("../lab/inventory"),
      import("../lab/replace"),
      import("../lab/preflight"),
      import("../lab/pebble"),
      import("../ops/process"),
      import("../lab/volumes"),
      import("../lab/ssh"),
      import("../lab/power"),
      import("../lab/state"),
      import("../lab/bootstrap"),
      import("../ops/targets"),
      import("../model"),
    ]);
  return {
    ...up,
    ...down,
    ...status,
    ...inventory,
    ...replace,
    ...preflight,
    ...pebble,
    showCommand: processes.showCommand,
    run: processes.run,
    ...volumes,
    ...ssh,
    ...power,
    ...state,
    labBootstrapHook: bootstrap.labBootstrapHook,
    powerFor: targets.powerFor,
    recordMembers: model.recordMembers,
  };
}

/** What the operator types next: the URL, how to resolve it from this machine, and where the nodes are. */
async function howToReach(inventory: Inventory, bootstrapped: boolean): Promise<string> {
  const { recordMembers, pebbleDirectoryUrl } = await lab();
  const children = recordMembers(inventory);
  const dns = inventory.dns.kind === "rfc2136" ? inventory.dns.server : "the cluster's DNS";
  const first = children[0]?.publicAddress ?? "";
  const lines = [
    "",
    bootstrapped
      ? `The cluster is up: https://${inventory.recordFqdn}/ (its certificate from the lab's ACME CA, pebble)`
      : `The nodes are up (not bootstrapped): https://${inventory.recordFqdn}/ answers after \`npm run bootstrap -- --stack lab\``,
    `  record   ${inventory.recordFqdn} → ${children.map((c) => c.publicAddress).join(", ")} (TTL ${inventory.ttl} s; ask the lab DNS: dig @${dns} ${inventory.recordFqdn})`,
    `  try      curl --cacert ${path.relative(process.cwd(), labPaths().pebbleRoots)} --resolve ${inventory.recordFqdn}:443:${first} https://${inventory.recordFqdn}/health/`,
    `  acme     ${pebbleDirectoryUrl()} (pebble on ${ACME_NODE}); its root: ${path.relative(process.cwd(), labPaths().pebbleRoots)}, trusted by every node`,
    `  nodes    ${inventory.nodes.map((n) => `${n.name} ${n.publicAddress}`).join(", ")}`,
    `  shell    npm run lab -- ssh ${inventory.primary}     status: npm run lab -- status     stop: npm run lab -- down`,
  ];
  return lines.join("\n");
}

/** --acme-validity: a whole number of seconds ≥ 1. */
function parseSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError(
      `"${value}" is not a whole number of seconds ≥ 1; e.g. --acme-validity 120 (2 minutes) or 7776000 (90 days, the default).`,
    );
  return n;
}

const program = new Command()
  .name("lab")
  .description("The local lab: real Debian 13 nodes booted with systemd-nspawn on the lab bridge 10.231.0.0/24 (root only).")
  .showHelpAfterError();

program
  .command("up")
  .description("bake the image if needed (cached under .lab/images), boot every node, set the DNS record, write .lab/inventory.json")
  .option("--stack <name>", "stack whose hosts the lab boots", "lab")
  .option("--rebake", "bake a new image even when one is cached")
  .option("--dry-run", "print what would be done, change nothing")
  .option("--no-bootstrap", "only boot the nodes; do not install the cluster's roles and the sample app")
  .option(
    "--acme-validity <seconds>",
    "lifetime of the certificates the lab's ACME CA (pebble) issues, e.g. 120 to watch renewals",
    parseSeconds,
    DEFAULT_ACME_VALIDITY_SECONDS,
  )
  .action(async (o: { stack: string; rebake?: boolean; dryRun?: boolean; bootstrap: boolean; acmeValidity: number }) => {
    const { labUp, labBootstrapHook, pebbleDirectoryUrl, showCommand } = await lab();
    if (o.dryRun) {
      const { labInventory } = await import("../lab/inventory");
      const { labMachines, nodeMounts, volumesFor } = await import("../lab/plan");
      const { labVolumes } = await import("../lab/volumes");
      const { nspawnCommand } = await import("../lab/node");
      const { imageKey, imagePackages } = await import("../lab/image");
      const paths = labPaths();
      const inventory = labInventory(o.stack);
      const machines = labMachines(inventory);
      const volumes = labVolumes(inventory, paths).map((v, i) => ({ ...v, loop: `/dev/loop<${i}>` }));
      for (const v of volumes) console.log(`volume ${v.node}-${v.purpose}: ${v.file} (${v.sizeMb} MiB sparse) → losetup → ${v.guest}`);
      const volumesOf = volumesFor(volumes);
      console.log(`image ${imageKey(imagePackages())} (${imagePackages().length} packages)${o.rebake ? ", rebaked" : ""}`);
      console.log(`acme ${pebbleDirectoryUrl()} (pebble on ${ACME_NODE}): certificates valid ${o.acmeValidity} s`);
      for (const m of machines) {
        const root = `${paths.nodes}/${m.name}/root`;
        console.log(
          `${m.name.padEnd(14)} ${m.address.padEnd(12)} ${m.kind.padEnd(8)} ${showCommand(nspawnCommand({ name: m.name, root, ...nodeMounts(m.kind, paths.share, volumesOf(m.name)) }))}`,
        );
      }
      return;
    }
    // The main job: boot the nodes, then bootstrap them into the cluster (the same bootstrap a cloud stack gets).
    const result = await labUp({
      stack: o.stack,
      rebake: o.rebake,
      acmeValiditySeconds: o.acmeValidity,
      afterBoot: o.bootstrap ? [labBootstrapHook({ stack: o.stack })] : [],
    });
    console.log(await howToReach(result.inventory, o.bootstrap));
  });

program
  .command("status")
  .description("per node: process, systemd state over SSH, failed units")
  .action(async () => {
    const { preflight, labStatus, labLeftovers, labAcme } = await lab();
    await preflight();
    const rows = await labStatus();
    if (!rows.length) {
      const left = await labLeftovers();
      console.log(
        `no lab is up${left.nspawns.length || left.netns.length ? ` (leftovers: ${JSON.stringify(left)}; run \`npm run lab -- down\`)` : ""}`,
      );
      return;
    }
    for (const r of rows) {
      console.log(
        `${r.name.padEnd(14)} ${r.address.padEnd(12)} ${r.kind.padEnd(8)} ${r.running ? `pid ${r.pid}` : "stopped"}  ${r.system}${r.failedUnits.length ? `  failed: ${r.failedUnits.join(" ")}` : ""}`,
      );
    }
    const acme = labAcme();
    if (acme)
      console.log(
        `acme           ${acme.directoryUrl}  certificates valid ${acme.validitySeconds} s; clients verify with --cacert ${path.relative(process.cwd(), acme.roots)} (pebble's root), pebble itself with ${path.relative(process.cwd(), acme.labCa)}`,
      );
  });

program
  .command("ssh")
  .description("ssh into a node as root with the lab key (host key pinned); with a command, run it")
  .argument("<node>", "node name, e.g. lab-db-1")
  .argument("[cmd...]", 'command line to run (after --), by the node\'s shell as ssh does: -- "systemctl restart nginx; journalctl -n 20"')
  .action(async (node: string, cmd: string[]) => {
    const { preflight, readState, sshCommand, operatorShellCommand, run } = await lab();
    await preflight();
    const paths = labPaths();
    const state = readState(paths);
    const n = state?.nodes[node];
    if (!state || !n)
      throw new UserError(
        state
          ? `No lab node "${node}". Lab nodes: ${Object.keys(state.nodes).join(", ")}.`
          : "No lab is up: run `npm run lab -- up` first.",
      );
    const c = sshCommand(paths, n.address, operatorShellCommand(cmd), { tty: !cmd.length && process.stdin.isTTY });
    const r = await run(c, { inherit: true, allowFail: true });
    process.exit(r.code);
  });

program
  .command("down")
  .description(
    "stop every node and remove every process, mount, namespace, link, loop device and nft table the lab made (keeps the image cache and the volume files: remove-volumes deletes those)",
  )
  .option("--purge", "also remove the image cache, the lab SSH key, both TSIG keys and the lab CA")
  .option("--dry-run", "list what would be removed, change nothing")
  .action(async (o: { purge?: boolean; dryRun?: boolean }) => {
    const { preflight, labLeftovers, labDown } = await lab();
    if (o.dryRun) {
      await preflight();
      console.log(JSON.stringify(await labLeftovers(), null, 2));
      return;
    }
    await labDown({ purge: o.purge });
  });

program
  .command("replace")
  .description(
    "replace a node's machine and keep its volumes: stop it, throw its root disk away (fresh overlay), boot it with the same volume devices; then bootstrap the cluster",
  )
  .argument("<node>", "lab node name, e.g. lab-db-1")
  .option("--yes", "do not ask (the node's root disk is thrown away)")
  .option("--stack <name>", "stack the running lab was booted from", "lab")
  .option("--no-bootstrap", "only boot the new machine; do not bootstrap the cluster")
  .option("--dry-run", "say what would be done, change nothing")
  .action(async (node: string, o: { yes?: boolean; bootstrap: boolean; stack: string; dryRun?: boolean }) => {
    const { readState, preflight, labReplaceMachine, labBootstrapHook } = await lab();
    const n = readState(labPaths())?.nodes[node];
    if (!n) throw new UserError(`No running lab node "${node}": start the lab first (npm run lab -- up).`);
    if (o.dryRun) {
      console.log(
        `would stop ${node}, delete ${n.dir}/upper (its root disk), boot a fresh overlay with the same binds:\n  ${n.binds.map((b) => `${b.host} → ${b.guest}`).join("\n  ") || "(none)"}${o.bootstrap ? `\nthen bootstrap stack ${o.stack}` : ""}`,
      );
      return;
    }
    await preflight();
    if (!(await confirm(`Throw away ${node}'s root disk (its volumes stay)?`, { yes: o.yes }))) throw new UserError("Nothing done.");
    await labReplaceMachine(node);
    if (o.bootstrap) {
      const paths = labPaths();
      const { readFileSync } = await import("node:fs");
      const inventory = JSON.parse(readFileSync(paths.inventory, "utf8")) as Inventory;
      // The whole cluster: the others may need to learn something of the new machine (e.g. the standby its new share-sync key).
      await labBootstrapHook({ stack: o.stack })({ inventory, paths, log: (l) => process.stderr.write(`${l}\n`) });
    }
  });

program
  .command("remove-volumes")
  .description("delete the lab's volume files (.lab/volumes: every lab database and share); only while the lab is down")
  .option("--yes", "do not ask")
  .option("--dry-run", "list the files, delete nothing")
  .action(async (o: { yes?: boolean; dryRun?: boolean }) => {
    const { volumeFiles, labRemoveVolumes } = await lab();
    const files = volumeFiles(labPaths());
    if (o.dryRun || !files.length) {
      console.log(files.length ? files.join("\n") : "no volume files");
      return;
    }
    if (!(await confirm(`Delete ${files.length} volume file(s) — the lab's databases and shares — for good?`, { yes: o.yes })))
      throw new UserError("Nothing deleted.");
    await labRemoveVolumes();
  });

/** A node of the running lab and the lab's power operations (powerFor, with the lab's nspawn power injected). */
async function labNodePower(node: string): Promise<{ power: PowerOperations }> {
  const { readState, unknownNode, powerFor, labPower } = await lab();
  const paths = labPaths();
  if (!readState(paths)?.nodes[node]) throw unknownNode(paths, node);
  const inventory = JSON.parse(fs.readFileSync(paths.inventory, "utf8")) as Inventory;
  return { power: powerFor(inventory, { hostsPower: labPower(), stack: "lab" }) };
}

program
  .command("fence")
  .description(
    "power a node off hard (a power cut: no clean shutdown), as the failover runbook fences a dead parent; its disk is kept (start brings it back)",
  )
  .argument("<node>", "lab node name, e.g. lab-db-1")
  .option("-y, --yes", "do not ask")
  .option("--dry-run", "say what would be done, change nothing")
  .action(async (node: string, o: { yes?: boolean; dryRun?: boolean }) => {
    const { power } = await labNodePower(node);
    const { preflight, acquireLock } = await lab();
    if (o.dryRun) {
      console.log(`would power ${node} off hard through ${power.describe} (no clean shutdown; its disk stays); nothing changed`);
      return;
    }
    await preflight();
    if (!(await power.isRunning(node))) {
      console.log(`${node}: already off; start it with \`npm run lab -- start ${node}\``);
      return;
    }
    if (!(await confirm(`Power ${node} off hard (a power cut: running work is lost, its disk stays)?`, { yes: o.yes })))
      throw new UserError("Nothing done.");
    const release = acquireLock(labPaths(), `lab fence ${node}`);
    try {
      const started = Date.now();
      console.log(`${node}: powering off (${power.describe})`);
      await power.fence(node);
      if (await power.isRunning(node)) throw new Error(`${node} still runs after the fence`);
      console.log(`${node}: off, fenced in ${elapsed(started)}; start it again: npm run lab -- start ${node}`);
    } finally {
      release();
    }
  });

program
  .command("start")
  .description("start a fenced node again with its disk as it was, and wait until it answers SSH")
  .argument("<node>", "lab node name, e.g. lab-db-1")
  .option("--dry-run", "say what would be done, change nothing")
  .action(async (node: string, o: { dryRun?: boolean }) => {
    const { power } = await labNodePower(node);
    const { preflight, acquireLock } = await lab();
    if (o.dryRun) {
      console.log(`would start ${node} through ${power.describe} and wait until it answers SSH; nothing changed`);
      return;
    }
    await preflight();
    if (await power.isRunning(node)) {
      console.log(`${node}: already running`);
      return;
    }
    const release = acquireLock(labPaths(), `lab start ${node}`);
    try {
      const started = Date.now();
      console.log(`${node}: starting (${power.describe})`);
      await power.start(node);
      console.log(`${node}: up, answers SSH, in ${elapsed(started)}`);
    } finally {
      release();
    }
  });

void main(program);
