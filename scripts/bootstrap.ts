#!/usr/bin/env tsx
/**
 * Bootstrap a stack's machines over SSH: what each node runs (roles/) applied by ops/bootstrap.
 *   npm run bootstrap -- --stack <name> [--inventory file] [--only node,…] [--identity key] [--dry-run | --diff] [--yes]
 */
import { Command, InvalidArgumentError } from "commander";
import { confirm, runCli } from "./cli";

export interface BootstrapCliOptions {
  stack: string;
  inventory?: string;
  identity?: string;
  knownHosts?: string;
  only?: string[];
  concurrency: number;
  dryRun?: boolean;
  diff?: boolean;
  yes?: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError(`${JSON.stringify(value)} is not a whole number from 1 to 64`);
  return n;
}

function nodeList(value: string): string[] {
  const names = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (!names.length) throw new InvalidArgumentError(`${JSON.stringify(value)} names no node; give node names separated by commas`);
  return names;
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("bootstrap")
    .description(
      "Make a stack's machines what their roles say, over SSH: parent, then standby, then children and worker in parallel. " +
        'Idempotent: a second run reports "no changes". Inventory: hosts stacks from stacks/Pulumi.<stack>.yaml, the lab from ' +
        ".lab/inventory.json, cloud stacks from --inventory (pulumi stack output inventory --json). Ends with the certificate " +
        "phase (docs/certificates.md): the renewal agent on the primary, then each child installs the certificate and serves " +
        "/health/ verified by its trust store. DNS-01 credentials come from DJANGO_HA_ACME_TSIG_SECRET (hosts, certificate.dnsKeyName), " +
        "DJANGO_HA_TSIG_SECRET (hosts, the record's key) or DJANGO_HA_ACME_DNS_TOKEN (digitalocean).",
    )
    .requiredOption("--stack <name>", "stack name (stacks/Pulumi.<name>.yaml)")
    .option("--inventory <file>", "inventory JSON of a digitalocean/aws stack: pulumi stack output inventory --json > file")
    .option("--identity <file>", "SSH private key (default ~/.ssh/id_ed25519; lab: .lab/ssh/id_ed25519)")
    .option("--known-hosts <file>", "pinned host keys (default .django-ha/<stack>/known_hosts; lab: .lab/ssh/known_hosts)")
    .option("--only <nodes>", "only these nodes, comma-separated (the others count as bootstrapped)", nodeList)
    .option("--concurrency <n>", "nodes at once", positiveInt, 4)
    .option("--dry-run", "print each node's plan without connecting to any machine")
    .option("--diff", "connect read-only and print what a run would change (scripts are not run, checks skipped)")
    .option("-y, --yes", "do not ask before changing the machines")
    .exitOverride()
    .showHelpAfterError();
  try {
    program.parse(argv, { from: "user" });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    return code ?? 2;
  }
  const o = program.opts<BootstrapCliOptions>();
  const started = Date.now();
  return runCli(async () => {
    // Loaded only now that the arguments say there is work: --help and usage errors stay fast.
    const { consoleProgress, describePlan, formatSummary, renderStackPlans, resolveStack, bootstrapTarget, seconds } =
      await import("../ops/bootstrap");
    const { stackQuery } = await import("./sources");
    const target = resolveStack(stackQuery(o, o.dryRun));
    const nodes = (o.only ?? target.inventory.nodes.map((n) => n.name)).join(", ");
    if (o.dryRun) {
      // No connection: this is each node's full plan. A real run compares it with the machine and changes only what differs.
      const plans = await renderStackPlans(target, { only: o.only });
      const width = Math.max(...plans.map((p) => p.node.name.length));
      console.log(`dry run: stack ${o.stack} (${target.inventorySource}), nothing is contacted or changed`);
      for (const p of plans) {
        console.log(
          `${p.node.name.padEnd(width)} │ ${p.role} at ${target.inventory.ssh.user}@${p.node.publicAddress}:${target.inventory.ssh.port}, ${p.actions.length} actions, ${p.checks.length} checks`,
        );
        for (const line of describePlan(p)) console.log(`${" ".repeat(width)} │   ${line}`);
      }
      console.log(`dry run done in ${seconds(Date.now() - started)}`);
      return 0;
    }
    if (o.diff) {
      console.log(`diff: stack ${o.stack} (${target.inventorySource}), nodes ${nodes}: read-only, nothing is changed`);
      const summary = await bootstrapTarget(target, {
        only: o.only,
        concurrency: o.concurrency,
        log: consoleProgress(o.only ?? target.inventory.nodes.map((n) => n.name)),
        readOnly: true,
      });
      console.log(`\n${formatSummary(summary)}`);
      return summary.ok ? 0 : 1;
    }
    if (
      !(await confirm(`Bootstrap ${nodes} of stack ${o.stack} as ${target.inventory.ssh.user} (services may restart)?`, { yes: o.yes }))
    ) {
      console.log("nothing done");
      return 1;
    }
    console.log(`bootstrap: stack ${o.stack} (${target.inventorySource}), nodes ${nodes}`);
    const names = o.only ?? target.inventory.nodes.map((n) => n.name);
    const summary = await bootstrapTarget(target, { only: o.only, concurrency: o.concurrency, log: consoleProgress(names) });
    console.log(`\n${formatSummary(summary)}`);
    return summary.ok ? 0 : 1;
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
