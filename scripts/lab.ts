#!/usr/bin/env tsx
/**
 * The local lab: real Debian 12 nodes (systemd-nspawn) on one machine.
 *   npm run lab -- up [--rebake] [--stack lab]
 *   npm run lab -- status
 *   npm run lab -- ssh <node> [cmd…]
 *   npm run lab -- down [--purge]
 */
import { spawnSync } from "node:child_process";
import { Command } from "commander";
import { UserError } from "../spec";
import { labPaths } from "../lab/config";
import { showCommand } from "../lab/exec";
import { labDown, labLeftovers, labStatus, labUp, preflight } from "../lab/lab";
import { operatorShellCommand, sshCommand } from "../lab/ssh";
import { readState } from "../lab/state";
import { labBootstrapHook } from "../ops/bootstrap";
import { recordMembers, type Inventory } from "../spec";

function fail(e: unknown): never {
  if (e instanceof UserError) process.stderr.write(`error: ${e.message}\n`);
  else process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
}

/** What the operator types next: the URL, how to resolve it from this machine, and where the nodes are. */
function howToReach(inventory: Inventory, bootstrapped: boolean): string {
  const children = recordMembers(inventory);
  const dns = inventory.dns.kind === "rfc2136" ? inventory.dns.server : "the cluster's DNS";
  const first = children[0]?.publicAddress ?? "";
  const lines = [
    "",
    bootstrapped ? `The cluster is up: https://${inventory.recordFqdn}/ (self-signed certificate until ACME is set up)` : `The nodes are up (not bootstrapped): https://${inventory.recordFqdn}/ answers after \`npm run bootstrap -- --stack lab\``,
    `  record   ${inventory.recordFqdn} → ${children.map((c) => c.publicAddress).join(", ")} (TTL ${inventory.ttl} s; ask the lab DNS: dig @${dns} ${inventory.recordFqdn})`,
    `  try      curl -k --resolve ${inventory.recordFqdn}:443:${first} https://${inventory.recordFqdn}/health/`,
    `  nodes    ${inventory.nodes.map((n) => `${n.name} ${n.publicAddress}`).join(", ")}`,
    `  shell    npm run lab -- ssh ${inventory.primary}     status: npm run lab -- status     stop: npm run lab -- down`,
  ];
  return lines.join("\n");
}

const program = new Command()
  .name("lab")
  .description("The local lab: real Debian 12 nodes booted with systemd-nspawn on the lab bridge 10.231.0.0/24 (root only).")
  .showHelpAfterError();

program
  .command("up")
  .description("bake the image if needed (cached under .lab/images), boot every node, set the DNS record, write .lab/inventory.json")
  .option("--stack <name>", "stack whose hosts the lab boots", "lab")
  .option("--rebake", "bake a new image even when one is cached")
  .option("--dry-run", "print what would be done, change nothing")
  .option("--no-bootstrap", "only boot the nodes; do not install the cluster's roles and the sample app")
  .action(async (o: { stack: string; rebake?: boolean; dryRun?: boolean; bootstrap: boolean }) => {
    if (o.dryRun) {
      const { labInventory } = await import("../lab/lab");
      const { labMachines, nodeMounts } = await import("../lab/plan");
      const { nspawnCommand } = await import("../lab/node");
      const { imageKey, imagePackages } = await import("../lab/image");
      const paths = labPaths();
      const machines = labMachines(labInventory(o.stack));
      console.log(`image ${imageKey(imagePackages())} (${imagePackages().length} packages)${o.rebake ? ", rebaked" : ""}`);
      for (const m of machines) {
        const root = `${paths.nodes}/${m.name}/root`;
        console.log(`${m.name.padEnd(14)} ${m.address.padEnd(12)} ${m.kind.padEnd(8)} ${showCommand(nspawnCommand({ name: m.name, root, ...nodeMounts(m.kind, paths.share) }))}`);
      }
      return;
    }
    // The main job: boot the nodes, then bootstrap them into the cluster (the same bootstrap a cloud stack gets).
    const result = await labUp({ stack: o.stack, rebake: o.rebake, afterBoot: o.bootstrap ? [labBootstrapHook({ stack: o.stack })] : [] });
    console.log(howToReach(result.inventory, o.bootstrap));
  });

program
  .command("status")
  .description("per node: process, systemd state over SSH, failed units")
  .action(async () => {
    await preflight();
    const rows = await labStatus();
    if (!rows.length) {
      const left = await labLeftovers();
      console.log(`no lab is up${left.nspawns.length || left.netns.length ? ` (leftovers: ${JSON.stringify(left)}; run \`npm run lab -- down\`)` : ""}`);
      return;
    }
    for (const r of rows) {
      console.log(
        `${r.name.padEnd(14)} ${r.address.padEnd(12)} ${r.kind.padEnd(8)} ${r.running ? `pid ${r.pid}` : "stopped"}  ${r.system}${r.failedUnits.length ? `  failed: ${r.failedUnits.join(" ")}` : ""}`,
      );
    }
  });

program
  .command("ssh")
  .description("ssh into a node as root with the lab key (host key pinned); with a command, run it")
  .argument("<node>", "node name, e.g. lab-parent")
  .argument("[cmd...]", "command line to run (after --), by the node's shell as ssh does: -- \"systemctl restart nginx; journalctl -n 20\"")
  .action(async (node: string, cmd: string[]) => {
    await preflight();
    const paths = labPaths();
    const state = readState(paths);
    const n = state?.nodes[node];
    if (!state || !n) throw new UserError(state ? `No lab node "${node}". Lab nodes: ${Object.keys(state.nodes).join(", ")}.` : "No lab is up: run `npm run lab -- up` first.");
    const c = sshCommand(paths, n.address, operatorShellCommand(cmd), { tty: !cmd.length && process.stdin.isTTY });
    const r = spawnSync(c.cmd, c.args, { stdio: "inherit" });
    process.exit(r.status ?? 1);
  });

program
  .command("down")
  .description("stop every node and remove every process, mount, namespace, link and nft table the lab made (keeps the image cache)")
  .option("--purge", "also remove the image cache, the lab SSH key and TSIG key")
  .option("--dry-run", "list what would be removed, change nothing")
  .action(async (o: { purge?: boolean; dryRun?: boolean }) => {
    if (o.dryRun) {
      await preflight();
      console.log(JSON.stringify(await labLeftovers(), null, 2));
      return;
    }
    await labDown({ purge: o.purge });
  });

program.parseAsync(process.argv).catch(fail);
