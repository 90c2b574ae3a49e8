/**
 * Looking at ACME in a running lab from the outside, for test/acme.lab.test.ts and bench/acme.bench.ts: the
 * certificate each child serves (a TLS handshake verified against pebble's root, as a browser would), the
 * renewal agent's state on the primary, pebble's validations in the children's nginx logs, and the agent's verbs.
 * Paths and unit names are the shared contract's (issue 10).
 */
import * as fs from "node:fs";
import * as tls from "node:tls";
import { labSsh } from "../lab";
import { LAB_NET, labPaths } from "../lab/config";
import { readAcmeTsigKey } from "../lab/keys";
import { setTimeout as sleep } from "node:timers/promises";
import { clusterCaFile } from "./lab-tls";
import { statePath } from "../ops/acme/state";
import { ACME_PATHS, ACME_SERVICE, ACME_TIMER } from "../roles/acme";
import { PATHS } from "../roles/context";

// The agent's paths and units as the roles install them (one source: roles/acme.ts, ops/acme/state.ts).
export const AGENT = ACME_PATHS.wrapper;
export const AGENT_SERVICE = ACME_SERVICE;
export const AGENT_TIMER = ACME_TIMER;
export const AGENT_LOCK = ACME_PATHS.lock;
export const AGENT_STATE = statePath(PATHS.tls);
export const NGINX_ACCESS_LOG = "/var/log/nginx/access.log";

/** A serial as one spelling: upper-case hex without leading zeros (node, openssl and the agent differ). */
export const serialKey = (serial: string): string =>
  serial
    .replace(/[^0-9a-f]/gi, "")
    .toUpperCase()
    .replace(/^0+/, "");

/** What a child serves for the name: serial, validity, and whether the chain verified against pebble's root. */
export interface Served {
  serial: string;
  notBefore: number;
  notAfter: number;
  /** The handshake verified the chain and the name (a failure throws instead). */
  verified: true;
}

/** A TLS handshake with one child for `fqdn`, verified against pebble's root (never unverified). */
export function servedCertificate(
  address: string,
  fqdn: string,
  ca = fs.readFileSync(clusterCaFile(), "utf8"),
  timeoutMs = 5_000,
): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: address, port: 443, servername: fqdn, ca, timeout: timeoutMs }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve({
        serial: serialKey(cert.serialNumber),
        notBefore: Date.parse(cert.valid_from),
        notAfter: Date.parse(cert.valid_to),
        verified: true,
      });
    });
    socket.on("timeout", () => socket.destroy(new Error(`no TLS answer from ${address} within ${timeoutMs} ms`)));
    socket.on("error", reject);
  });
}

/** Run a command on a lab node; throws with its output unless it exits 0. */
export async function onNode(node: string, argv: string[], timeoutMs = 120_000): Promise<string> {
  const r = await labSsh(node, argv, { timeoutMs });
  if (r.code !== 0) throw new Error(`${node}: ${argv.join(" ")} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  return r.stdout;
}

/** A shell test, true when no run of the agent is queued, starting or running (its unit inactive or failed, no job). */
export const AGENT_IDLE = `[ -z "$(systemctl list-jobs --no-legend ${AGENT_SERVICE})" ] && systemctl show -P ActiveState ${AGENT_SERVICE} | grep -qxE 'inactive|failed'`;

/**
 * Stop the agent's timer and wait until the agent is idle, then take its lock, so a test's own steps are not
 * raced. The lock alone is not enough: a run the timer has just started takes the lock only once node has loaded
 * the agent, so a look at the lock in that gap passes, and the run then renews under the test.
 */
export async function pauseAgent(primary: string): Promise<void> {
  const script = [
    `systemctl stop ${AGENT_TIMER}`,
    "for _ in $(seq 600); do",
    `  if ${AGENT_IDLE}; then flock ${AGENT_LOCK} true; exit 0; fi`,
    "  sleep 0.5",
    "done",
    `echo "${AGENT_SERVICE}: still running 300 s after its timer stopped" >&2`,
    "exit 1",
  ].join("\n");
  await onNode(primary, ["bash", "-c", script], 330_000);
}

/** The renewal agent's state as it is on the share (read on the primary). */
export interface AgentStateView {
  serial?: string;
  certId?: string;
  notBefore?: string;
  notAfter?: string;
  failures: number;
  lastError?: string;
  lastRenewedAt?: string;
  revokedSerial?: string;
  ari?: { serial: string; window?: { start: string; end: string } };
  history: { at: string; event: string; detail: string }[];
}

export async function agentState(primary: string): Promise<AgentStateView> {
  return JSON.parse(await onNode(primary, ["cat", AGENT_STATE])) as AgentStateView;
}

/** pebble's HTTP-01 requests in one child's nginx access log (the CA's address; the agent's own self-checks come from the primary). */
export async function pebbleValidations(child: string): Promise<string[]> {
  const log = await onNode(child, ["bash", "-c", `cat ${NGINX_ACCESS_LOG} 2>/dev/null || true`]);
  return log.split("\n").filter((l) => l.startsWith(`${LAB_NET.pebbleAddress} `) && l.includes("/.well-known/acme-challenge/"));
}

export const AGENT_CONFIG = "/etc/django-ha/acme.json";
export const AGENT_SECRETS = "/etc/django-ha/acme.env";
/** The DNS-01 variant of the bootstrap's agent config (issueOn's `dns01` files). */
export const DNS01_CONFIG = "/root/acme-dns-01.json";
export const DNS01_SECRETS = "/root/acme-dns-01.env";

/**
 * Beside the bootstrap's agent config on a node, the same with DNS-01 through the lab DNS (RFC 2136, the narrow
 * lab-acme key) and that key's secret: what a stack with `certificate.challenge: dns-01` and `dnsKeyName: lab-acme`
 * gives the agent, for `issue --challenge dns-01` on a cluster that renews by HTTP-01. Files 0600 root.
 */
export async function writeDns01Config(node: string): Promise<void> {
  const config = JSON.parse(await onNode(node, ["cat", AGENT_CONFIG])) as Record<string, unknown>;
  const key = readAcmeTsigKey(labPaths());
  const dns = { provider: "rfc2136", server: LAB_NET.dnsAddress, port: 53, zone: "lab.test", keyName: key.name, algorithm: key.algorithm };
  const secrets = `${(await onNode(node, ["cat", AGENT_SECRETS])).trimEnd()}\nDJANGO_HA_DNS_TSIG_SECRET=${key.secret}\n`;
  const write = 'umask 077; printf %s "$2" > "$1"';
  await onNode(node, ["bash", "-c", write, "write", DNS01_CONFIG, `${JSON.stringify({ ...config, dns }, null, 2)}\n`]);
  await onNode(node, ["bash", "-c", write, "write", DNS01_SECRETS, secrets]);
}

/** `django-ha-acme issue` on a node: a certificate for `names` into `out`, leaving the served one alone (DNS-01: writeDns01Config's files). */
export async function issueOn(
  node: string,
  challenge: "http-01" | "dns-01",
  names: string[],
  out: string,
): Promise<{ seconds: number; serial: string; notAfter: string }> {
  const files = challenge === "dns-01" ? ["--config", DNS01_CONFIG, "--secrets-file", DNS01_SECRETS] : [];
  const args = [AGENT, ...files, "issue", "--challenge", challenge, ...names.flatMap((n) => ["--name", n]), "--out", out, "--json"];
  const lines = (await onNode(node, args, 300_000)).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as { seconds: number; serial: string; notAfter: string };
}

/** One observed change of the certificate a child serves. */
export interface Change {
  child: string;
  serial: string;
  at: number;
}

/**
 * Watch the certificate every child serves (one verified handshake per child per `intervalMs`) until `done`
 * says so or `timeoutMs` passes. Returns the first serial per child and every change after it; a handshake that
 * does not verify throws (a child serving an untrusted or expired certificate is a failure, not a change).
 */
export async function watchServed(
  children: { name: string; address: string }[],
  fqdn: string,
  done: (changes: Change[], first: Map<string, string>) => boolean,
  o: { intervalMs?: number; timeoutMs: number },
): Promise<{ first: Map<string, string>; changes: Change[] }> {
  const ca = fs.readFileSync(clusterCaFile(), "utf8");
  const first = new Map<string, string>();
  const current = new Map<string, string>();
  const changes: Change[] = [];
  const until = Date.now() + o.timeoutMs;
  while (Date.now() < until) {
    for (const c of children) {
      const served = await servedCertificate(c.address, fqdn, ca);
      if (!first.has(c.name)) first.set(c.name, served.serial);
      else if (current.get(c.name) !== served.serial) changes.push({ child: c.name, serial: served.serial, at: Date.now() });
      current.set(c.name, served.serial);
    }
    if (done(changes, first)) return { first, changes };
    await sleep(o.intervalMs ?? 1_000);
  }
  return { first, changes };
}

/** Wait until every child serves `serial` (verified); returns the ms it took. */
export async function untilEveryChildServes(
  children: { name: string; address: string }[],
  fqdn: string,
  serial: string,
  timeoutMs = 120_000,
): Promise<number> {
  const t0 = Date.now();
  const ca = fs.readFileSync(clusterCaFile(), "utf8");
  const want = serialKey(serial);
  while (Date.now() - t0 < timeoutMs) {
    const served = await Promise.all(children.map((c) => servedCertificate(c.address, fqdn, ca)));
    if (served.every((s) => s.serial === want)) return Date.now() - t0;
    await sleep(250);
  }
  throw new Error(`not every child serves serial ${want} after ${timeoutMs / 1000} s`);
}
