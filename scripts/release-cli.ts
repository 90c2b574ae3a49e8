/** The options deploy, rollback and maintenance share to find the stack and reach its machines. */
import type { Command } from "commander";

export interface ReleaseStackCliOptions {
  stack: string;
  inventory?: string;
  identity?: string;
  knownHosts?: string;
  dryRun?: boolean;
  yes?: boolean;
}

export function releaseStackOptions(program: Command): Command {
  return program
    .requiredOption("--stack <name>", "stack name (stacks/Pulumi.<name>.yaml)")
    .option("--inventory <file>", "inventory JSON of a digitalocean/aws stack: pulumi stack output inventory --json > file")
    .option("--identity <file>", "SSH private key (default ~/.ssh/id_ed25519; lab: .lab/ssh/id_ed25519)")
    .option("--known-hosts <file>", "pinned host keys (default .django-ha/<stack>/known_hosts; lab: .lab/ssh/known_hosts)");
}

/** Parse argv; commander's exit code when it printed help or an error (then stop), undefined to go on. */
export function parseArgs(program: Command, argv: string[]): number | undefined {
  try {
    program.exitOverride().showHelpAfterError().parse(argv, { from: "user" });
    return undefined;
  } catch (err) {
    return (err as { exitCode?: number }).exitCode ?? 2;
  }
}
