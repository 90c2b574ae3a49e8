#!/usr/bin/env tsx
/**
 * The failover runbook (docs/failover.md):
 *   npm run failover -- --stack <name>             emergency: the primary is gone; fence it, promote the standby
 *   npm run failover -- --stack <name> --planned   switchover while both are healthy: zero loss, old primary → standby
 *   npm run failover -- rejoin --stack <name>      after an emergency: the old primary becomes the standby
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { Command } from "commander";
import type { StackTarget } from "../ops/bootstrap";
import type { FailoverKind } from "../ops/failover";
import type { PowerOperations } from "../ops/power";
import type { Inventory, InventoryNode } from "../model";
import { UserError } from "../model/errors";
import { confirm, runCli } from "./cli";

// The modules below the CLI (ops/, lab/, roles/, model/ and their SDKs) are imported where a run uses them, after
// the arguments are parsed: `--help` and a usage error load commander and this file only (scripts/startup.test.ts).

export interface FailoverCliOptions {
  stack: string;
  planned?: boolean;
  inventory?: string;
  machineIds?: string;
  identity?: string;
  knownHosts?: string;
  fenceCommand?: string;
  operatorFenced?: string;
  skipFenceRiskingTwoPrimaries?: boolean;
  acceptDataLoss?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

function machineIdsFrom(file: string | undefined): Record<string, string> | undefined {
  if (!file) return undefined;
  if (!fs.existsSync(file))
    throw new UserError(`--machine-ids ${file} does not exist. Write it with: pulumi stack output machineIds --json > ${file}`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>;
  } catch (e) {
    throw new UserError(
      `--machine-ids ${file} is not JSON (${(e as Error).message}). Write it with: pulumi stack output machineIds --json > ${file}`,
    );
  }
}

/** The stack's power operations, or undefined (hosts without an API, unless their source powers them: fence by command or by the operator). */
async function powerOf(target: StackTarget, o: FailoverCliOptions): Promise<PowerOperations | undefined> {
  const inv = target.inventory;
  const { powerFor } = await import("../ops/targets");
  if (inv.provider !== "hosts") return powerFor(inv, { machineIds: machineIdsFrom(o.machineIds), stack: o.stack });
  const hostsPower = await target.capabilities.power?.();
  return hostsPower ? powerFor(inv, { hostsPower, stack: o.stack }) : undefined;
}

/** How the new primary is recorded for this kind of stack. */
function recorderFor(target: StackTarget, o: FailoverCliOptions): (primary: string) => Promise<string> {
  const recordPrimary = target.capabilities.recordPrimary;
  if (recordPrimary) return async (primary) => recordPrimary(primary);
  if (target.inventory.provider === "hosts")
    return async (primary) => (await import("../ops/failover")).recordInStackFile((await import("../model")).stackFile(o.stack), primary);
  return async (primary) => {
    const { withPrimary } = await import("../model");
    // The exported inventory file is what the next bootstrap reads until `pulumi up` exports a new one.
    const line = await (await import("../ops/failover")).recordWithPulumi(o.stack, primary);
    if (o.inventory) fs.writeFileSync(o.inventory, `${JSON.stringify(withPrimary(target.inventory, primary), null, 2)}\n`);
    return `${line}${o.inventory ? `; ${o.inventory} rewritten with the new roles` : ""}`;
  };
}

async function typedConfirmation(node: string, yes: boolean | undefined, preconfirmed: boolean): Promise<boolean> {
  if (preconfirmed) return true;
  if (!process.stdin.isTTY)
    throw new UserError(`No terminal to confirm that ${node} is powered off: pass --operator-fenced ${node} once it is.`);
  void yes; // --yes never stands in for this one: the operator types the machine's name.
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  try {
    const answer = await rl.question(`Power ${node} off (or cut its network) now. Type its name once it is off, anything else aborts: `);
    return answer.trim() === node;
  } finally {
    rl.close();
  }
}

/** SSH to a node of the target (pinned host keys). `quick`: one short attempt, for a machine that may be dead. */
function connector(target: StackTarget, privateKey: string) {
  const inv = target.inventory;
  return async (node: InventoryNode, quick = false) => {
    const { KnownHostsFile, SshExecutor } = await import("../ops/ssh");
    return SshExecutor.connect(
      {
        node: node.name,
        host: node.publicAddress,
        port: inv.ssh.port,
        username: inv.ssh.user,
        privateKey,
        knownHosts: new KnownHostsFile(target.knownHostsPath, (m) => console.log(`${node.name}: ${m}`)),
      },
      quick ? { connectAttempts: 1, readyTimeoutMs: 3000 } : { connectAttempts: 3, readyTimeoutMs: 8000, minBackoffMs: 500 },
    );
  };
}

/** Bootstrap some nodes with the roles of a new inventory, inside the stack lock this run holds already. */
function converger(target: StackTarget) {
  return async (newInventory: Inventory, nodes: string[]) => {
    const { bootstrapTarget, formatSummary } = await import("../ops/bootstrap");
    const t: StackTarget = {
      ...target,
      inventory: newInventory,
      lockPath: "",
      shareMount: target.capabilities.shareMountFor?.(newInventory) ?? target.shareMount,
    };
    const summary = await bootstrapTarget(t, { only: nodes, log: (node, line) => console.log(`    ${node} │ ${line}`) });
    return { ok: summary.ok, text: formatSummary(summary) };
  };
}

const REJOIN_COMMAND = (stack: string) => `npm run failover -- rejoin --stack ${stack}`;

interface RejoinCliOptions {
  stack: string;
  inventory?: string;
  identity?: string;
  knownHosts?: string;
  force?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

/** The options both verbs take to find the stack and reach its machines. */
function stackOptions(program: Command, inventoryHelp: string): Command {
  return program
    .requiredOption("--stack <name>", "stack name (stacks/Pulumi.<name>.yaml)")
    .option("--inventory <file>", inventoryHelp)
    .option("--identity <file>", "SSH private key (default ~/.ssh/id_ed25519; lab: .lab/ssh/id_ed25519)")
    .option("--known-hosts <file>", "pinned host keys (default .django-ha/<stack>/known_hosts; lab: .lab/ssh/known_hosts)");
}

/** Parse argv; commander's exit code when it printed help or an error (then stop), undefined to go on. */
function parseArgs(program: Command, argv: string[]): number | undefined {
  try {
    program.exitOverride().showHelpAfterError().parse(argv, { from: "user" });
    return undefined;
  } catch (err) {
    return (err as { exitCode?: number }).exitCode ?? 2;
  }
}

/** `npm run failover -- rejoin --stack <name>`: the old primary becomes the standby of the recorded primary. */
async function rejoinMain(argv: string[]): Promise<number> {
  const program = new Command()
    .name("failover rejoin")
    .description(
      "Make the old primary (the stack's recorded standby, after a failover) the standby of the current primary: it follows the new timeline, " +
        "or is rewound (pg_rewind), or gets a fresh base backup (its old data directory kept), then streams; share replication and the Redis replica " +
        "follow through a bootstrap of the pair, and replication is synchronous again. Refuses when the node holds commits the primary lacks (--force " +
        "discards them). Start the machine first (its boot guard keeps it from acting as a primary). See docs/failover.md.",
    );
  stackOptions(program, "inventory JSON of a digitalocean/aws stack (after the failover: pulumi stack output inventory --json > file)")
    .option("--force", "rejoin although the node holds commits the primary lacks, or is on a foreign timeline: those commits are discarded")
    .option("--dry-run", "observe both machines and print the plan; change nothing")
    .option("-y, --yes", "do not ask before changing the node");
  const stop = parseArgs(program, argv);
  if (stop !== undefined) return stop;
  const o = program.opts<RejoinCliOptions>();
  return runCli(async () => {
    const { resolveStack, stackStateDir } = await import("../ops/bootstrap");
    const { Journal, NO_STANDBY_OVERRIDE, rejoinStandby } = await import("../ops/failover");
    const { stackLockPath, withStackLock } = await import("../ops/lock");
    const { stackQuery } = await import("./sources");
    const target = resolveStack(stackQuery(o));
    const state = stackStateDir(o.stack);
    const journal = Journal.open(path.join(state, "failover.json"));
    if (journal)
      throw new UserError(
        `A failover of stack ${o.stack} (${journal.data.from} → ${journal.data.to}) did not finish: finish it first (npm run failover -- --stack ${o.stack}${journal.data.kind === "planned" ? " --planned" : ""}), then rejoin.`,
      );
    const connect = connector(target, fs.readFileSync(target.identityFile, "utf8"));
    const run = () =>
      rejoinStandby({
        inventory: target.inventory,
        connect: (n) => connect(n),
        confirm: (q) => confirm(q, { yes: o.yes, dryRun: o.dryRun }),
        force: o.force,
        dryRun: o.dryRun,
        converge: converger(target),
        noStandbyOverride: NO_STANDBY_OVERRIDE,
        log: (l) => console.log(l),
      });
    const r = o.dryRun ? await run() : await withStackLock(stackLockPath(state), o.stack, "rejoin", run);
    for (const l of r.summary) console.log(l);
    console.log(
      r.done
        ? `rejoin done in ${r.seconds.toFixed(1)} s: ${r.node} is the standby of ${r.primary} (${r.method})`
        : `dry run: would ${r.method}; nothing changed`,
    );
    return 0;
  });
}

/** The failover verb's options and help (the emergency default and --planned). */
function failoverProgram(): Command {
  const program = new Command()
    .name("failover")
    .description(
      "Make the standby the primary. Emergency (default): the primary is gone — establish that from here and from cluster members (a healthy primary is refused), " +
        "fence it, check what the standby holds, promote it, record it in the stack, move the NFS export and the Redis broker, repoint primary.<cluster>.internal on every " +
        "reachable node, reconnect uWSGI and Celery. --planned: a switchover while both are healthy (no data lost; the old primary becomes the standby). " +
        "Holds the stack's lock (no bootstrap meanwhile); an interrupted run is finished by running the same command again. " +
        "After an emergency failover, `npm run failover -- rejoin --stack <name>` makes the old primary the new standby (rejoin --help). See docs/failover.md.",
    )
    .option("--planned", "switchover while both database machines are healthy (zero data loss; the old primary ends as the standby)");
  stackOptions(
    program,
    "inventory JSON of a digitalocean/aws stack: pulumi stack output inventory --json > file (rewritten with the new roles)",
  )
    .option(
      "--machine-ids <file>",
      "digitalocean/aws: node → droplet/instance id JSON for the power-off: pulumi stack output machineIds --json > file",
    )
    .option(
      "--fence-command <command>",
      "hosts stacks: a command run here that powers the old primary off (gets DJANGO_HA_NODE, DJANGO_HA_ADDRESS)",
    )
    .option("--operator-fenced <node>", "hosts stacks: you powered <node> (the old primary) off yourself; said without a prompt")
    .option(
      "--skip-fence-risking-two-primaries",
      "promote WITHOUT fencing: if the old primary still runs, two machines accept writes and data diverges",
    )
    .option("--accept-data-loss", "degrade-to-async only: promote although commits acknowledged while the standby was away may be lost")
    .option("--dry-run", "print the plan; contact and change nothing")
    .option("-y, --yes", "do not ask before the destructive part (a typed fence confirmation is still asked for)");
  return program;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "rejoin") return rejoinMain(argv.slice(1));
  const program = failoverProgram();
  const stop = parseArgs(program, argv);
  if (stop !== undefined) return stop;
  const o = program.opts<FailoverCliOptions>();
  return runCli(async () => {
    const kind: FailoverKind = o.planned ? "planned" : "emergency";
    if (o.planned && (o.fenceCommand || o.operatorFenced || o.skipFenceRiskingTwoPrimaries || o.acceptDataLoss))
      throw new UserError(
        "--planned stops the old primary cleanly and loses nothing: --fence-command, --operator-fenced, --skip-fence-risking-two-primaries and --accept-data-loss belong to an emergency failover.",
      );
    const { resolveStack, stackStateDir } = await import("../ops/bootstrap");
    const { chooseFence, runFailover } = await import("../ops/failover");
    const { stackLockPath, withStackLock } = await import("../ops/lock");
    const { run: runProcess } = await import("../ops/process");
    const { stackQuery } = await import("./sources");
    const target = resolveStack(stackQuery(o, o.dryRun));
    const inv = target.inventory;
    const power = kind === "emergency" ? await powerOf(target, o) : undefined;
    const fence =
      kind === "emergency"
        ? chooseFence(inv.primary, {
            power: power?.describe,
            fenceCommand: o.fenceCommand,
            operatorFenced: o.operatorFenced,
            skipFence: o.skipFenceRiskingTwoPrimaries,
            interactive: !!process.stdin.isTTY || !!o.dryRun,
          })
        : ({ kind: "none" } as const);
    const connect = connector(target, o.dryRun ? "" : fs.readFileSync(target.identityFile, "utf8"));
    const state = stackStateDir(o.stack);
    const journalFile = path.join(state, "failover.json");
    const run = () =>
      runFailover({
        stack: o.stack,
        kind,
        inventory: inv,
        journalFile,
        dryRun: o.dryRun,
        power,
        fence,
        acceptDataLoss: o.acceptDataLoss,
        connect,
        runFenceCommand: async (command, node) => {
          // The operator's own fence command (a shell command line from the stack config), run by bash.
          await runProcess(
            { cmd: "bash", args: ["-c", command] },
            { env: { DJANGO_HA_NODE: node.name, DJANGO_HA_ADDRESS: node.publicAddress }, timeoutMs: 120_000 },
          );
        },
        operatorConfirmsFenced: (node) => typedConfirmation(node, o.yes, o.operatorFenced === node),
        record: recorderFor(target, o),
        converge: converger(target),
        rejoinCommand: REJOIN_COMMAND(o.stack),
        confirm: (question) => confirm(question, { yes: o.yes }),
      });
    const result = o.dryRun ? await run() : await withStackLock(stackLockPath(state), o.stack, "failover", run);
    return o.dryRun || result.complete ? 0 : 1;
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
