/**
 * `django-ha-health`: the health agent's command line on the database machines (bundled into one file; the
 * systemd unit runs `django-ha-health run`). Subcommands: run (the loop; --once, --dry-run), status (--json).
 */
import * as fs from "node:fs";
import { Command } from "commander";
import { lockFile } from "../lock";
import { HEALTH_CONFIG_FILE, parseHealthConfig } from "./config";
import { dnsOf, isPrimaryHere, LOCK_FILE, STATE_FILE, trustedCertificates, writeState } from "./node";
import { probeChild } from "./probe";
import { initialMemory, runAgent, tick, type AgentDeps } from "./run";

function depsFrom(configFile: string, dryRun: boolean): AgentDeps {
  const config = parseHealthConfig(fs.readFileSync(configFile, "utf8"), configFile);
  return {
    config,
    dns: dnsOf(config),
    isPrimary: () => isPrimaryHere(),
    probe: (c) => probeChild({ name: c.name, privateAddress: c.privateAddress }, { fqdn: config.fqdn, timeoutMs: config.probeTimeoutSeconds * 1000, ca: trustedCertificates(config.fqdn) }),
    // One line per change to the journal (stdout of the unit).
    log: (line) => console.log(line),
    now: () => Date.now(),
    dryRun,
  };
}

async function run(o: { config: string; once?: boolean; dryRun?: boolean }): Promise<void> {
  const release = lockFile(LOCK_FILE, "django-ha-health run");
  try {
    const deps = depsFrom(o.config, !!o.dryRun);
    if (o.once) {
      writeState(await tick(initialMemory(), deps));
      return;
    }
    const stop = new AbortController();
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => stop.abort());
    await runAgent(deps, stop.signal, (m) => writeState(m));
  } finally {
    release();
  }
}

function status(o: { json?: boolean }): number {
  if (!fs.existsSync(STATE_FILE)) {
    console.log("no round yet (is django-ha-health.service running? systemctl status django-ha-health)");
    return 1;
  }
  const text = fs.readFileSync(STATE_FILE, "utf8");
  if (o.json) {
    process.stdout.write(text);
    return 0;
  }
  const s = JSON.parse(text) as { at: string; acting: boolean; record: string[] | null; lastProbes: { name: string; ok: boolean; detail: string }[]; lastError: string | null };
  console.log(`${s.at}: ${s.acting ? "acting (this machine is the primary)" : "idle (not the primary)"}; record ${s.record ? s.record.join(", ") || "(empty)" : "unknown"}`);
  for (const p of s.lastProbes) console.log(`  ${p.name}: ${p.ok ? "ok" : "FAILING"} (${p.detail})`);
  if (s.lastError) console.log(`last error: ${s.lastError}`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command().name("django-ha-health").description("Keeps the round-robin record to the children whose /health/ answers, acting only on the PostgreSQL primary.").exitOverride();
  let code = 0;
  program
    .command("run")
    .description("probe the children every few seconds and change the record (one member at a time, rate limited, never the last one)")
    .option("--config <file>", "configuration", HEALTH_CONFIG_FILE)
    .option("--once", "one round, then exit")
    .option("--dry-run", "decide and log, change nothing in DNS")
    .action(async (o: { config: string; once?: boolean; dryRun?: boolean }) => run(o));
  program
    .command("status")
    .description("the last round: acting or idle, the record, each child's last probe")
    .option("--json", "as JSON")
    .action((o: { json?: boolean }) => {
      code = status(o);
    });
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    const exit = (err as { exitCode?: number }).exitCode;
    if (exit !== undefined) return exit;
    console.error(`django-ha-health: ${(err as Error).message}`);
    return 1;
  }
  return code;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
