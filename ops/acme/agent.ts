#!/usr/bin/env node
/**
 * django-ha-acme: the certificate renewal agent on the database machines (bundled by bundle.ts, installed
 * as /usr/local/lib/django-ha/acme-agent.js, run by django-ha-acme.timer). One line per event on stdout
 * (the journal). Exit status: 0 done (or nothing to do, or not the primary), 1 an order or revocation
 * failed (the served certificate stays), 2 bad config or usage, 75 another run holds the lock.
 */
import { createInterface } from "node:readline/promises";
import { Command, CommanderError, Option } from "commander";
import { ConfigError, UserError } from "../../model/errors";
import { CONFIG_PATH, ENV_PATH } from "./config";
import { caFor, loadConfig, loadContext, loadEnvFile } from "./context";
import type { CertInfo } from "./cert";
import { issueInto, readServed, revocationTarget, runOnce, storePaths } from "./run";
import { readState, withEvent, withoutBackoff, writeState } from "./state";
import { formatStatus, statusReport } from "./status";
import { checkPrimary, LOCK_PATH, tryLock } from "./system";

export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 75 } as const;

const log = (event: string, detail: string) => console.log(`${event}: ${detail}`);

class ExitError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface Globals {
  config: string;
  secretsFile: string;
  lock: string;
}

async function holdLock(file: string): Promise<{ release(): void }> {
  const lock = await tryLock(file);
  if (!lock) throw new ExitError(EXIT.busy, `another django-ha-acme holds ${file}; try again when it has finished`);
  return lock;
}

async function requirePrimary(verb: string): Promise<void> {
  const p = await checkPrimary();
  if (!p.primary)
    throw new ExitError(EXIT.usage, `not the primary (${p.reason}): ${verb} acts only on the primary database machine; run it there`);
}

async function cmdRun(g: Globals, o: { dryRun?: boolean }): Promise<number> {
  const ctx = loadContext(g.config, g.secretsFile, process.env);
  const p = await checkPrimary();
  if (!p.primary) {
    log("not the primary", `${p.reason}; nothing to do`);
    return EXIT.ok;
  }
  const lock = await tryLock(g.lock);
  if (!lock) {
    log("busy", `another run holds ${g.lock}; it does the work`);
    return EXIT.ok;
  }
  try {
    const r = await runOnce(
      { ...ctx, passphrase: ctx.secrets.passphrase, ca: caFor(ctx, log, undefined, o.dryRun), now: Date.now, random: Math.random, log },
      { force: false, dryRun: o.dryRun },
    );
    return r.outcome === "failed" ? EXIT.failed : EXIT.ok;
  } finally {
    lock.release();
  }
}

async function cmdRenew(g: Globals, o: { dryRun?: boolean }): Promise<number> {
  const ctx = loadContext(g.config, g.secretsFile, process.env);
  await requirePrimary("renew");
  const lock = await holdLock(g.lock);
  try {
    const r = await runOnce(
      { ...ctx, passphrase: ctx.secrets.passphrase, ca: caFor(ctx, log, undefined, o.dryRun), now: Date.now, random: Math.random, log },
      { force: true, dryRun: o.dryRun },
    );
    return r.outcome === "failed" ? EXIT.failed : EXIT.ok;
  } finally {
    lock.release();
  }
}

/** A run in progress may be the one backing off: retry waits for it (within the bootstrap step's 15 min) rather than be refused. */
const RETRY_WAIT_SECONDS = 600;

async function cmdRetry(g: Globals): Promise<number> {
  const ctx = loadContext(g.config, g.secretsFile, process.env);
  await requirePrimary("retry");
  const lock = await tryLock(g.lock, RETRY_WAIT_SECONDS);
  if (!lock)
    throw new ExitError(EXIT.busy, `another django-ha-acme held ${g.lock} for ${RETRY_WAIT_SECONDS} s; try again when it has finished`);
  try {
    const state = readState(ctx.config.store);
    const lifted = withoutBackoff(state, Date.now());
    if (lifted === state) {
      log("retry", "no wait after failed orders: nothing to lift");
      return EXIT.ok;
    }
    writeState(ctx.config.store, lifted, ctx.owner);
    log("retry", `${lifted.history.at(-1)?.detail}; the next run orders at once if an order is due`);
    return EXIT.ok;
  } finally {
    lock.release();
  }
}

function cmdStatus(g: Globals, o: { json?: boolean }): number {
  loadEnvFile(g.secretsFile, process.env);
  const config = loadConfig(g.config);
  const served = readServed(storePaths(config.store, config.certName));
  const report = statusReport(config, readState(config.store), served?.info, Date.now());
  process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
  return report.failures > 0 ? EXIT.failed : EXIT.ok;
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

async function cmdRevoke(g: Globals, o: { yes?: boolean }): Promise<number> {
  const ctx = loadContext(g.config, g.secretsFile, process.env);
  await requirePrimary("revoke");
  const paths = storePaths(ctx.config.store, ctx.config.certName);
  const revocable = (confirmedSerial?: string) => {
    const r = revocationTarget(readServed(paths), paths.fullchain, confirmedSerial);
    if ("refusal" in r) throw new ExitError(EXIT.usage, r.refusal);
    return r.target;
  };
  let confirmedSerial: string | undefined;
  if (!o.yes) {
    const shown = revocable();
    if (!(await confirm(`Revoke ${describeServed(shown.info)}? Browsers may refuse it until the next run replaces it.`)))
      throw new ExitError(EXIT.usage, `not revoked: confirm at the prompt, or pass --yes`);
    confirmedSerial = shown.info.serial;
  }
  const lock = await holdLock(g.lock);
  try {
    // Read under the lock: a run holds it while it replaces the certificate.
    const served = revocable(confirmedSerial);
    const what = describeServed(served.info);
    await caFor(ctx, log).revoke(served.chainPem);
    const state = readState(ctx.config.store);
    writeState(ctx.config.store, withEvent({ ...state, revokedSerial: served.info.serial }, Date.now(), "revoked", what), ctx.owner);
    log("revoked", `${what}; the next run orders its replacement`);
    return EXIT.ok;
  } finally {
    lock.release();
  }
}

const describeServed = (info: CertInfo) => `serial ${info.serial} (${info.names.join(", ")})`;

async function cmdIssue(g: Globals, o: { challenge: "http-01" | "dns-01"; name: string[]; out: string; json?: boolean }): Promise<number> {
  const ctx = loadContext(g.config, g.secretsFile, process.env);
  const lock = await holdLock(g.lock);
  try {
    const r = await issueInto(
      { ca: caFor(ctx, log, o.challenge), passphrase: ctx.secrets.passphrase, owner: ctx.owner, now: Date.now, log },
      o.name,
      o.out,
    );
    if (o.json)
      console.log(
        JSON.stringify({
          seconds: r.seconds,
          serial: r.info.serial,
          names: r.info.names,
          notAfter: new Date(r.info.notAfter).toISOString(),
          challenge: o.challenge,
          out: o.out,
        }),
      );
    return EXIT.ok;
  } finally {
    lock.release();
  }
}

export function program(run: (code: Promise<number> | number) => void): Command {
  const p = new Command("django-ha-acme")
    .description("Let's Encrypt (ACME) certificates for the cluster's record name, renewed from the primary database machine.")
    .option("--config <file>", "agent config (written by the bootstrap)", CONFIG_PATH)
    // Not "--env-file": node 20 takes that flag for itself even after the script name.
    .option("--secrets-file <file>", "secrets (KEY=value) read when not already in the environment", ENV_PATH)
    .option("--lock <file>", "the lock every changing verb holds", LOCK_PATH)
    .exitOverride();
  const g = () => p.opts<Globals>();
  p.command("run")
    .description("on the primary only: renew when due (ARI window, else a third of the lifetime left); the timer runs this")
    .option("--dry-run", "say what would happen; order and write nothing")
    .action((o) => run(cmdRun(g(), o)));
  p.command("status")
    .description(
      "the served certificate, the next renewal and why, failures, the last events (no CA contact); exit 1 while orders are failing",
    )
    .option("--json", "machine-readable")
    .action((o) => run(cmdStatus(g(), o)));
  p.command("renew")
    .description("order a certificate now, whatever the schedule (on the primary)")
    .requiredOption("--force", "required: the schedule is bypassed (mind the CA's rate limits)")
    .option("--dry-run", "say what would happen; order and write nothing")
    .action((o) => run(cmdRenew(g(), o)));
  p.command("retry")
    .description(
      "on the primary: lift the wait after failed orders, so the next run orders at once if one is due (waits for a run in progress)",
    )
    .action(() => run(cmdRetry(g())));
  p.command("revoke")
    .description("revoke the served certificate (the next run replaces it)")
    .option("--yes", "do not ask")
    .action((o) => run(cmdRevoke(g(), o)));
  p.command("issue")
    .description("order a certificate for the given names into --out, leaving the served one and the state alone (tests, benchmarks)")
    .addOption(new Option("--challenge <type>", "how to prove the names").choices(["http-01", "dns-01"]).makeOptionMandatory())
    .requiredOption("--name <fqdn...>", "names on the certificate")
    .requiredOption("--out <dir>", "directory for fullchain.pem and privkey.pem.enc")
    .option("--json", "print the result as one JSON line")
    .action((o) => run(cmdIssue(g(), o)));
  return p;
}

function report(e: unknown): number {
  if (e instanceof ExitError) return (console.error(`django-ha-acme: ${e.message}`), e.code);
  if (e instanceof ConfigError || e instanceof UserError) return (console.error(e.message), EXIT.usage);
  console.error(`django-ha-acme: ${e instanceof Error ? e.message : String(e)}`);
  return EXIT.failed;
}

/** Parse and run; the exit status. */
export async function main(argv: string[]): Promise<number> {
  let pending: Promise<number> | number = EXIT.ok;
  try {
    await program((c) => (pending = c)).parseAsync(argv, { from: "user" });
    return await pending;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return report(e);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
