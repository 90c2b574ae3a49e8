#!/usr/bin/env node
/**
 * django-ha-health: the health agent's command line on the database machines (bundled by bundle.ts; the systemd
 * unit runs `django-ha-health run`). One line per change on stdout (the journal). Exit status: 0 done, 1 failed,
 * 2 bad config or usage, 75 another agent holds the lock on this machine.
 */
import * as fs from "node:fs";
import { Command, CommanderError } from "commander";
import { checkPrimary, tryLock } from "../acme/system";
import { HEALTH_CONFIG_FILE, parseHealthConfig } from "./config";
import { dnsOf, LOCK_FILE, STATE_FILE, trustedCertificates, writeState } from "./node";
import { probeChild } from "./probe";
import { initialMemory, runAgent, tick, type AgentDeps } from "./run";

export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 75 } as const;

class ExitError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function depsFrom(configFile: string, dryRun: boolean): AgentDeps {
  let config;
  try {
    config = parseHealthConfig(fs.readFileSync(configFile, "utf8"), configFile);
  } catch (err) {
    throw new ExitError(EXIT.usage, (err as Error).message);
  }
  return {
    config,
    dns: dnsOf(config),
    mayAct: async () => {
      // Before the first bootstrap finished, children that are not set up yet are not failures to act on.
      if (config.readyFile && !fs.existsSync(config.readyFile))
        return `the cluster has not finished its first bootstrap (no ${config.readyFile})`;
      const p = await checkPrimary();
      return p.primary ? true : `not the primary (${p.reason})`;
    },
    probe: (c) =>
      probeChild(
        { name: c.name, privateAddress: c.privateAddress },
        { fqdn: config.fqdn, path: config.healthPath, timeoutMs: config.probeTimeoutSeconds * 1000, ca: trustedCertificates(config.fqdn) },
      ),
    log: (line) => console.log(line),
    now: () => Date.now(),
    dryRun,
  };
}

interface RunOptions {
  config: string;
  lock: string;
  state: string;
  once?: boolean;
  dryRun?: boolean;
}

async function run(o: RunOptions): Promise<void> {
  const deps = depsFrom(o.config, !!o.dryRun);
  // One agent per machine (a second `run` next to the service would double the DNS calls); the other database
  // machine is kept out by the primary check of every round.
  const lock = await tryLock(o.lock);
  if (!lock) throw new ExitError(EXIT.busy, `another django-ha-health holds ${o.lock} on this machine`);
  try {
    if (o.once) {
      writeState(await tick(initialMemory(), deps), o.state);
      return;
    }
    const stop = new AbortController();
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => stop.abort());
    await runAgent(deps, stop.signal, (m) => writeState(m, o.state));
  } finally {
    lock.release();
  }
}

interface StateFile {
  at: string;
  acting: boolean;
  record: string[] | null;
  lastProbes: { name: string; ok: boolean; detail: string }[];
  lastError: string | null;
}

function status(o: { json?: boolean; state: string }): void {
  if (!fs.existsSync(o.state))
    throw new ExitError(EXIT.failed, `no round yet: ${o.state} does not exist (systemctl status django-ha-health)`);
  const text = fs.readFileSync(o.state, "utf8");
  if (o.json) {
    process.stdout.write(text);
    return;
  }
  const s = JSON.parse(text) as StateFile;
  console.log(
    `${s.at}: ${s.acting ? "acting (this machine is the primary)" : "idle (not the primary)"}; record ${s.record ? s.record.join(", ") || "(empty)" : "unknown"}`,
  );
  for (const p of s.lastProbes) console.log(`  ${p.name}: ${p.ok ? "ok" : "FAILING"} (${p.detail})`);
  if (s.lastError) console.log(`last error: ${s.lastError}`);
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("django-ha-health")
    .description("Keeps the round-robin record to the children whose /health/ answers; acts only on the PostgreSQL primary.")
    .exitOverride();
  program
    .command("run")
    .description("probe the children every few seconds and change the record (one member at a time, rate limited, never the last one)")
    .option("--config <file>", "configuration", HEALTH_CONFIG_FILE)
    .option("--lock <file>", "the lock that keeps a second agent off this machine", LOCK_FILE)
    .option("--state <file>", "where each round is recorded for `status`", STATE_FILE)
    .option("--once", "one round, then exit")
    .option("--dry-run", "decide and log, change nothing in DNS")
    .action(async (o: RunOptions) => run(o));
  program
    .command("status")
    .description("the last round: acting or idle, the record, each child's last probe")
    .option("--state <file>", "the agent's state file", STATE_FILE)
    .option("--json", "as JSON")
    .action((o: { json?: boolean; state: string }) => status(o));
  try {
    await program.parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    console.error(`django-ha-health: ${(err as Error).message}`);
    return err instanceof ExitError ? err.code : EXIT.failed;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
