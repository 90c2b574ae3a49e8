#!/usr/bin/env tsx
/**
 * `npm run status -- --stack <name> [--json]`: the cluster on one screen (docs in README "Status"). Read-only.
 * Exit 0 when healthy, 1 when something needs a human (listed), 2 on bad usage.
 */
import * as fs from "node:fs";
import { Command } from "commander";
import type { StackTarget } from "../ops/bootstrap";
import type { InventoryNode } from "../model";
import { elapsed, runCli } from "./cli";

interface StatusCliOptions {
  stack: string;
  json?: boolean;
  inventory?: string;
  identity?: string;
  knownHosts?: string;
}

/** One short SSH attempt per node, host keys pinned: a dead node is reported, not waited for. */
async function connector(target: StackTarget, privateKey: string) {
  const { KnownHostsFile, SshExecutor } = await import("../ops/ssh");
  const inv = target.inventory;
  return (node: InventoryNode) =>
    SshExecutor.connect(
      {
        node: node.name,
        host: node.publicAddress,
        port: inv.ssh.port,
        username: inv.ssh.user,
        privateKey,
        knownHosts: new KnownHostsFile(target.knownHostsPath, (m) => process.stderr.write(`${node.name}: ${m}\n`)),
      },
      { connectAttempts: 1, readyTimeoutMs: 5000 },
    );
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("status")
    .description(
      "The cluster on one screen: each node's role and health (SSH, systemd, key services, disk use of the data volumes), the primary and the standby " +
        "with replication state and lag, the share copy's lag, the record's members against the live children (/health/ answers 200), certificate expiry " +
        "per child and the health agent's last changes. Read-only: changes nothing anywhere (so it has no --dry-run). " +
        'Exit status 0 when healthy, 1 when something needs a human (listed under "Needs a human"), 2 on bad usage.',
    )
    .requiredOption("--stack <name>", "stack name (stacks/Pulumi.<name>.yaml)")
    .option("--json", "print the status as JSON (for monitors); progress still goes to stderr")
    .option("--inventory <file>", "inventory JSON of a digitalocean/aws stack: pulumi stack output inventory --json > file")
    .option("--identity <file>", "SSH private key (default ~/.ssh/id_ed25519; lab: .lab/ssh/id_ed25519)")
    .option("--known-hosts <file>", "pinned host keys (default .django-ha/<stack>/known_hosts; lab: .lab/ssh/known_hosts)");
  try {
    program.exitOverride().showHelpAfterError().parse(argv, { from: "user" });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const o = program.opts<StatusCliOptions>();
  return runCli(async () => {
    const started = Date.now();
    // Loaded here, not at the top: --help and usage errors answer without loading the operations.
    const [{ resolveStack }, { gatherStatus, recordReader, renderStatus, statusJson }, { UserError }, { stackQuery }] = await Promise.all([
      import("../ops/bootstrap"),
      import("../ops/status"),
      import("../model"),
      import("./sources"),
    ]);
    const target = resolveStack(stackQuery(o));
    if (!fs.existsSync(target.identityFile))
      throw new UserError(
        `SSH key ${target.identityFile} does not exist. Pass the private key whose public half the machines authorize with --identity <file>.`,
      );
    const width = Math.max(...target.inventory.nodes.map((n) => n.name.length));
    const status = await gatherStatus({
      stack: o.stack,
      inventory: target.inventory,
      connect: await connector(target, fs.readFileSync(target.identityFile, "utf8")),
      // Lab and hosts stacks: read from their RFC 2136 server (no key needed); others need their DNS credentials.
      readRecord: recordReader(target.inventory, { stack: target.stack }),
      progress: (node, line) => process.stderr.write(`${node.padEnd(width)} │ ${line}\n`),
    });
    process.stdout.write(o.json ? statusJson(status) : renderStatus(status));
    process.stderr.write(`status gathered in ${elapsed(started)}\n`);
    return status.healthy ? 0 : 1;
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
