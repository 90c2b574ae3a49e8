/**
 * The drill load from the lab host's side: start the load client (test/drill/client.ts) in the lab's outside
 * namespace against the round-robin name, collect its timeline, stop it; afterwards check on a PostgreSQL
 * node that every write the app acknowledged is there.
 */
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import { labSsh } from "../../lab";
import { OUTSIDE_NETNS } from "../../lab/config";
import { DB } from "../../roles/context";
import type { Inventory } from "../../model";
import { clusterCaFile } from "../lab-tls";
import type { ClientConfig } from "./client";
import { ackedIds, type Sample } from "./timeline";

export interface LoadOptions {
  writesPerSecond?: number;
  readsPerSecond?: number;
  /** Per-request limit. Defaults to 5 s. */
  timeoutMs?: number;
  /** Goes into every note's text, with a random part (several runs never share ids). Defaults to "drill". */
  label?: string;
  /** The CA the client verifies the children's certificates against. Defaults to the lab's (pebble's root). */
  caFile?: string;
}

export interface LoadRun {
  /** Every note text of this run starts with it. */
  idPrefix: string;
  /** The timeline so far (grows while the load runs). */
  samples: Sample[];
  /** Resolves once the client has answered `count` more requests of `kind` (a way to wait for "the load is flowing"). */
  waitFor(kind: Sample["kind"], predicate: (s: Sample) => boolean, count?: number, timeoutMs?: number): Promise<Sample[]>;
  /** Stop starting requests, wait for those in flight, return the whole timeline. */
  stop(): Promise<Sample[]>;
}

/** The load client's settings for a lab inventory. Pure. */
export function clientConfig(inv: Inventory, idPrefix: string, opts: LoadOptions = {}): ClientConfig {
  if (inv.dns.kind !== "rfc2136")
    throw new Error(`the drill load resolves through the lab's DNS server; this inventory's DNS is ${inv.dns.kind}`);
  return {
    fqdn: inv.recordFqdn,
    dnsServer: inv.dns.server,
    dnsPort: inv.dns.port,
    port: 443,
    writesPerSecond: opts.writesPerSecond ?? 10,
    readsPerSecond: opts.readsPerSecond ?? 5,
    idPrefix,
    timeoutMs: opts.timeoutMs ?? 5_000,
    caFile: opts.caFile ?? clusterCaFile(),
  };
}

/** Start writing and reading through the round-robin name from the outside namespace. */
export function startLoad(inv: Inventory, opts: LoadOptions = {}): LoadRun {
  const idPrefix = `${opts.label ?? "drill"}-${randomBytes(4).toString("hex")}`;
  const cfg = clientConfig(inv, idPrefix, opts);
  const client = path.join(__dirname, "client.ts");
  const child = spawn("ip", ["netns", "exec", OUTSIDE_NETNS, process.execPath, "--import", "tsx", client, JSON.stringify(cfg)], {
    cwd: path.resolve(__dirname, "..", ".."),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const samples: Sample[] = [];
  const listeners = new Set<() => void>();
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  readline.createInterface({ input: child.stdout }).on("line", (line) => {
    samples.push(JSON.parse(line) as Sample);
    for (const l of listeners) l();
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      for (const l of listeners) l();
      if (code === 0) resolve();
      else reject(new Error(`the drill load client exited with ${code ?? signal}: ${stderr.slice(-2000)}`));
    });
  });
  // Surfaced by stop(); without this an early crash would be an unhandled rejection.
  exited.catch(() => undefined);

  return {
    idPrefix,
    samples,
    waitFor(kind, predicate, count = 1, timeoutMs = 60_000) {
      const from = samples.length;
      return new Promise((resolve, reject) => {
        const check = () => {
          const hits = samples.slice(from).filter((s) => s.kind === kind && predicate(s));
          if (hits.length >= count) done(() => resolve(hits));
          else if (child.exitCode !== null) done(() => reject(new Error(`the drill load client stopped: ${stderr.slice(-2000)}`)));
        };
        const timer = setTimeout(
          () =>
            done(() =>
              reject(new Error(`no ${count} matching ${kind}(s) within ${timeoutMs / 1000} s; last: ${JSON.stringify(samples.slice(-3))}`)),
            ),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      return samples;
    },
  };
}

export interface Verification {
  acked: number;
  /** Acknowledged ids that the node does not have: must be empty. */
  missing: string[];
  /** Writes that failed or timed out at the client but committed anyway (ambiguous outcomes, not losses). */
  unacknowledgedPresent: number;
}

/** The note texts of a run that the node's PostgreSQL (on `port`) holds (read through lab SSH as the postgres superuser). */
export async function notesOn(node: string, idPrefix: string, port = 5432): Promise<Set<string>> {
  if (!/^[A-Za-z0-9_-]+$/.test(idPrefix)) throw new Error(`unsafe id prefix ${JSON.stringify(idPrefix)}`);
  const sql = `select text from notes_note where text like '${idPrefix}-%'`;
  const r = await labSsh(node, ["runuser", "-u", "postgres", "--", "psql", "-p", String(port), "-d", DB.name, "-AtX", "-c", sql], {
    timeoutMs: 120_000,
  });
  if (r.code !== 0) throw new Error(`${node}: reading the notes failed (${r.code}): ${r.stderr}`);
  return new Set(r.stdout.split("\n").filter(Boolean));
}

/** Compare the acknowledged writes of a timeline with what a node holds. Pure. */
export function compareWithNode(samples: readonly Sample[], present: ReadonlySet<string>): Verification {
  const acked = ackedIds(samples);
  const ackedSet = new Set(acked);
  return {
    acked: acked.length,
    missing: acked.filter((id) => !present.has(id)),
    unacknowledgedPresent: [...present].filter((id) => !ackedSet.has(id)).length,
  };
}

/** Every acknowledged write of the run checked on `node` (the primary after a failover). */
export async function verifyAcked(node: string, run: Pick<LoadRun, "idPrefix">, samples: readonly Sample[]): Promise<Verification> {
  return compareWithNode(samples, await notesOn(node, run.idPrefix));
}
