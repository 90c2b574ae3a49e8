/**
 * One run of the agent (the timer's `run`, `renew --force`, `issue`), over a Ca so tests can give it a fake
 * CA: read the state and the served certificate from the share, refresh ARI when due, decide (pure), order,
 * write the results atomically. A failure never touches the served certificate.
 */
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Ca, Directory } from "./acme";
import { nextAriPoll } from "./ari";
import { certInfo, type CertInfo, chainTrusted, namesMatch } from "./cert";
import type { AgentConfig } from "./config";
import { ensureDir, type Owner, readIfExists, writeFileAtomic } from "./files";
import { decryptKey, encryptKey, keyMatchesCert } from "./keys";
import { decide, type Decision, type Window } from "./schedule";
import { type AgentState, readState, recordFailure, recordSuccess, withEvent, writeState } from "./state";

export interface StorePaths {
  certDir: string;
  fullchain: string;
  privkey: string;
  acmeDir: string;
  accountKey: string;
}

export function storePaths(store: string, certName: string): StorePaths {
  const certDir = path.join(store, certName);
  const acmeDir = path.join(store, "acme");
  return {
    certDir,
    fullchain: path.join(certDir, "fullchain.pem"),
    privkey: path.join(certDir, "privkey.pem.enc"),
    acmeDir,
    accountKey: path.join(acmeDir, "account.key.enc"),
  };
}

export type Log = (event: string, detail: string) => void;

export interface RunContext {
  config: AgentConfig;
  passphrase: string;
  ca: Ca;
  owner?: Owner;
  now: () => number;
  random: () => number;
  log: Log;
  /** This machine's trust store (PEM bundle); undefined skips the chain check. */
  trustedRootsPem?: string;
}

export interface RunResult {
  outcome: "renewed" | "waiting" | "failed" | "dry-run";
  detail: string;
}

/** The store's directories: the share root-squashes to the app user, so it owns them. */
export function prepareStore(paths: StorePaths, owner?: Owner): void {
  ensureDir(path.dirname(paths.acmeDir), 0o750, owner); // the store: 0750, as the bootstrap's share layout (roles/share.ts) makes it
  ensureDir(paths.acmeDir, 0o750, owner);
  ensureDir(paths.certDir, 0o755, owner);
}

/** The ACME account key (ECDSA P-256), made and stored encrypted on first use. Plain PEM in memory only. */
export function loadOrCreateAccountKey(paths: StorePaths, passphrase: string, owner?: Owner): string {
  const stored = readIfExists(paths.accountKey);
  if (stored !== undefined) return decryptKey(stored, passphrase, paths.accountKey);
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  writeFileAtomic(paths.accountKey, encryptKey(pem, passphrase), { mode: 0o640, owner });
  return pem;
}

/** The served certificate, or undefined when there is none or it cannot be read (then a new one is due). */
export function readServed(paths: StorePaths, log?: Log): { chainPem: string; info: CertInfo } | undefined {
  const chainPem = readIfExists(paths.fullchain);
  if (chainPem === undefined) return undefined;
  try {
    return { chainPem, info: certInfo(chainPem) };
  } catch (e) {
    log?.("certificate", `${paths.fullchain} cannot be read (${(e as Error).message}): ordering a new one`);
    return undefined;
  }
}

/**
 * What `revoke` revokes: the certificate served now, if it is the one the operator confirmed (`confirmedSerial`,
 * absent with --yes). A run may have replaced it while the prompt waited; revoking the new one unasked would be as
 * wrong as revoking the old one and calling it the served one. Pure.
 */
export function revocationTarget<T extends { info: CertInfo }>(
  served: T | undefined,
  fullchain: string,
  confirmedSerial?: string,
): { target: T } | { refusal: string } {
  if (!served) return { refusal: `no certificate at ${fullchain}: nothing to revoke` };
  if (confirmedSerial !== undefined && served.info.serial !== confirmedSerial)
    return {
      refusal: `not revoked: serial ${confirmedSerial}, which you confirmed, is no longer served (a run replaced it with serial ${served.info.serial}); run revoke again to revoke the new one`,
    };
  return { target: served };
}

const ms = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));
const toWindow = (w: { start: string; end: string } | undefined): Window | undefined =>
  w ? { start: Date.parse(w.start), end: Date.parse(w.end) } : undefined;
const fromWindow = (w: Window | undefined) =>
  w ? { start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString() } : undefined;

/** Ask the CA's renewalInfo for the served certificate when it is due (new certificate, or Retry-After passed). */
export async function refreshAri(ctx: RunContext, state: AgentState, info: CertInfo | undefined, dir: Directory): Promise<AgentState> {
  if (!dir.renewalInfo || !info?.certId) return state;
  const now = ctx.now();
  const known = state.ari?.serial === info.serial ? state.ari : undefined;
  if (known && now < Date.parse(known.nextPollAt)) return state;
  try {
    const r = await ctx.ca.renewalInfo(info.certId);
    const ari = {
      serial: info.serial,
      window: fromWindow(r.window),
      nextPollAt: new Date(nextAriPoll(r.retryAfter, now)).toISOString(),
      explanationURL: r.explanationURL,
    };
    const changed = known?.window?.start !== ari.window?.start || known?.window?.end !== ari.window?.end;
    if (changed) ctx.log("ari", `window ${ari.window?.start}..${ari.window?.end} for serial ${info.serial}; next poll ${ari.nextPollAt}`);
    return changed ? withEvent({ ...state, ari }, now, "ari", `window ${ari.window?.start}..${ari.window?.end}`) : { ...state, ari };
  } catch (e) {
    ctx.log("ari", `renewalInfo failed (${(e as Error).message}); the last window stays, asking again in an hour`);
    return { ...state, ari: { serial: info.serial, window: known?.window, nextPollAt: new Date(now + 3600_000).toISOString() } };
  }
}

/**
 * The serial whose untrusted chain the trust rule leaves alone: the replacement it ordered came back untrusted
 * too, from this same directory (a CA no store knows). A new directory (staging → production) is judged afresh.
 */
function quietSerial(state: AgentState, directoryUrl: string): string | undefined {
  return state.untrustedReplacementDirectory === directoryUrl ? state.untrustedReplacementSerial : undefined;
}

/** The served chain needs replacing for trust: it leads to no trusted root and is not already the replacement for that. */
export function untrustedChain(
  state: AgentState,
  served: { chainPem: string; info: CertInfo } | undefined,
  trustedRootsPem: string | undefined,
  directoryUrl: string,
): boolean {
  if (!served || trustedRootsPem === undefined || quietSerial(state, directoryUrl) === served.info.serial) return false;
  return !chainTrusted(served.chainPem, trustedRootsPem);
}

/** The moment of a decision: the clock, the random draw that spreads renewals, and what the operator or the chain asks. */
export interface DecisionInputs {
  now: number;
  random: number;
  force: boolean;
  /** The served chain leads to no trusted root (untrustedChain). Defaults to false. */
  untrusted?: boolean;
}

/** The renewal decision (decide) from the agent's state and the served certificate. Pure. */
export function decisionFor(state: AgentState, served: CertInfo | undefined, config: AgentConfig, at: DecisionInputs): Decision {
  const { now, random, force, untrusted = false } = at;
  const ari = served && state.ari?.serial === served.serial ? toWindow(state.ari.window) : undefined;
  const chosen = state.chosen ? { at: Date.parse(state.chosen.at), window: toWindow(state.chosen.window) } : undefined;
  return decide({
    cert: served && { notBefore: served.notBefore, notAfter: served.notAfter },
    namesMatch: served ? namesMatch(served, config.names) : false,
    revoked: served !== undefined && state.revokedSerial === served.serial,
    untrusted,
    ari,
    chosen,
    failures: state.failures,
    nextAttemptAt: ms(state.nextAttemptAt),
    force,
    now,
    random,
  });
}

/** Write the new key (encrypted) and chain; the key first, so a child never pairs a new chain with an old key for long. */
export function writeCertificate(paths: StorePaths, chainPem: string, keyPem: string, passphrase: string, owner?: Owner): CertInfo {
  const info = certInfo(chainPem);
  if (!keyMatchesCert(keyPem, chainPem)) throw new Error("the CA's certificate does not match the key we sent: nothing was written");
  writeFileAtomic(paths.privkey, encryptKey(keyPem, passphrase), { mode: 0o640, owner });
  writeFileAtomic(paths.fullchain, chainPem, { mode: 0o644, owner });
  return info;
}

const oneLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ").trim();

/** One run: decide and, when due, order. */
export async function runOnce(ctx: RunContext, o: { force: boolean; dryRun?: boolean }): Promise<RunResult> {
  const { config } = ctx;
  const paths = storePaths(config.store, config.certName);
  if (!o.dryRun) prepareStore(paths, ctx.owner);
  let state = readState(config.store);
  const served = readServed(paths, ctx.log);
  let dir: Directory;
  try {
    dir = await ctx.ca.directory();
  } catch (e) {
    const reason = `the CA's directory ${config.directoryUrl} is unreachable: ${oneLine(e)}`;
    if (!o.dryRun) writeState(config.store, { ...state, lastError: reason }, ctx.owner);
    ctx.log("failed", reason);
    return { outcome: "failed", detail: reason };
  }
  state = await refreshAri(ctx, state, served?.info, dir);
  const untrusted = untrustedChain(state, served, ctx.trustedRootsPem, config.directoryUrl);
  const decision = decisionFor(state, served?.info, config, { now: ctx.now(), random: ctx.random(), force: o.force, untrusted });
  state = {
    ...state,
    chosen: decision.chosen && { at: new Date(decision.chosen.at).toISOString(), window: fromWindow(decision.chosen.window) },
  };
  if (o.dryRun) {
    const what = decision.action === "wait" ? `would wait until ${new Date(decision.until).toISOString()}` : "would order now";
    ctx.log("dry-run", `${what}: ${decision.reason} (nothing written, nothing ordered)`);
    return { outcome: "dry-run", detail: decision.reason };
  }
  if (decision.action === "wait") {
    writeState(config.store, state, ctx.owner);
    ctx.log("waiting", `until ${new Date(decision.until).toISOString()}: ${decision.reason}`);
    return { outcome: "waiting", detail: decision.reason };
  }
  return order(ctx, { paths, state, served: served?.info, dir, why: decision.reason, forTrust: untrusted });
}

/** What an order starts from: the store, the state, the served certificate (replaced by ARI when the CA has it), and why. */
interface OrderInputs {
  paths: StorePaths;
  state: AgentState;
  served: CertInfo | undefined;
  dir: Directory;
  why: string;
  /** Ordered because the served chain is untrusted. */
  forTrust: boolean;
}

async function order(ctx: RunContext, o: OrderInputs): Promise<RunResult> {
  const { config } = ctx;
  const { paths, state, served, dir, why, forTrust } = o;
  // Not for trust: a CA that reset its root, or another CA, does not know the untrusted certificate, and refuses an
  // order that names it (pebble: "could not find an order for the given certificate").
  const replaces = !forTrust && dir.renewalInfo && served?.certId ? served.certId : undefined;
  ctx.log(
    "ordering",
    `${config.names.join(", ")} by ${config.challenge}${config.profile ? `, profile ${config.profile}` : ""}${replaces ? `, replaces ${replaces}` : ""}: ${why}`,
  );
  const started = ctx.now();
  try {
    const issued = await ctx.ca.issue({ names: config.names, profile: config.profile, replaces });
    const info = writeCertificate(paths, issued.chainPem, issued.keyPem, ctx.passphrase, ctx.owner);
    const detail = `serial ${info.serial}, valid ${new Date(info.notBefore).toISOString()}..${new Date(info.notAfter).toISOString()}, in ${((ctx.now() - started) / 1000).toFixed(1)} s`;
    // Once a replacement ordered for trust came back untrusted too, the store does not know this CA: remember it
    // across renewals while its chains stay untrusted, so the trust rule never adds an order.
    const unknownCa =
      (forTrust || quietSerial(state, config.directoryUrl) !== undefined) &&
      ctx.trustedRootsPem !== undefined &&
      !chainTrusted(issued.chainPem, ctx.trustedRootsPem);
    writeState(
      config.store,
      {
        ...recordSuccess(state, ctx.now(), info, detail),
        revokedSerial: undefined,
        untrustedReplacementSerial: unknownCa ? info.serial : undefined,
        untrustedReplacementDirectory: unknownCa ? config.directoryUrl : undefined,
      },
      ctx.owner,
    );
    ctx.log("issued", detail);
    return { outcome: "renewed", detail };
  } catch (e) {
    const reason = oneLine(e);
    const next = recordFailure(state, ctx.now(), reason, config.backoff);
    writeState(config.store, next, ctx.owner);
    ctx.log("failed", `${reason}; the served certificate stays; next attempt not before ${next.nextAttemptAt}`);
    return { outcome: "failed", detail: reason };
  }
}

/** `issue`: a certificate for `names` into `outDir` (fullchain.pem, privkey.pem.enc); the served one and the state are untouched. */
export async function issueInto(
  ctx: Pick<RunContext, "ca" | "passphrase" | "now" | "log" | "owner">,
  names: string[],
  outDir: string,
): Promise<{ seconds: number; info: CertInfo }> {
  const started = ctx.now();
  fs.mkdirSync(outDir, { recursive: true, mode: 0o755 });
  const issued = await ctx.ca.issue({ names });
  const info = writeCertificate(
    {
      certDir: outDir,
      fullchain: path.join(outDir, "fullchain.pem"),
      privkey: path.join(outDir, "privkey.pem.enc"),
      acmeDir: "",
      accountKey: "",
    },
    issued.chainPem,
    issued.keyPem,
    ctx.passphrase,
    ctx.owner,
  );
  const seconds = (ctx.now() - started) / 1000;
  ctx.log("issued", `${names.join(", ")} into ${outDir}: serial ${info.serial} in ${seconds.toFixed(1)} s`);
  return { seconds, info };
}
