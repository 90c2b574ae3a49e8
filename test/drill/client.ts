/**
 * The drill's load client, a process of its own run inside the lab's outside namespace (a visitor on the
 * Internet as far as the cluster knows): `ip netns exec lab-outside node --import tsx test/drill/client.ts '<json>'`.
 * test/drill/load.ts starts and stops it; it is not an operator tool.
 *
 * It resolves the round-robin name through the lab's DNS server (honouring the TTL), then at fixed rates,
 * open loop (a slow answer never delays the next request): writes a note with a unique text (POST /notes/,
 * acknowledged only on 201 with the note's id) and reads the list (GET /notes/, ok on 200 with a list).
 * Every request becomes one JSON line on stdout (test/drill/timeline.ts Sample). SIGTERM: stop starting
 * requests, let those in flight finish, exit 0.
 *
 * TLS: verified as a browser would, against pebble's root (`caFile`, test/lab-tls.ts) and for the name it sends
 * (SNI and Host): a certificate that does not verify is a failed request.
 */
import { Resolver } from "node:dns/promises";
import * as fs from "node:fs";
import * as https from "node:https";
import { z } from "zod";
import type { Sample, SampleKind } from "./timeline";
import { RoundRobinTargets } from "./targets";

export const ClientConfig = z.object({
  /** The round-robin name, e.g. www.lab.test. */
  fqdn: z.string().min(1),
  /** The DNS server that answers for it (the lab's), and its port. */
  dnsServer: z.string().min(1),
  dnsPort: z.number().int().positive().default(53),
  port: z.number().int().positive().default(443),
  writesPerSecond: z.number().nonnegative(),
  readsPerSecond: z.number().nonnegative(),
  /** Every note text is `<idPrefix>-<seq>`: the verifier finds the run's notes by this prefix. */
  idPrefix: z.string().regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only (it is matched in SQL)"),
  timeoutMs: z.number().int().positive().default(5_000),
  /** PEM file of the CA the children's certificates chain to (the lab's: pebble's root). */
  caFile: z.string().min(1),
});
export type ClientConfig = z.infer<typeof ClientConfig>;

interface Answer {
  status: number;
  body: string;
}

function request(
  cfg: ClientConfig,
  ca: string,
  address: string,
  method: "GET" | "POST",
  path: string,
  form?: Record<string, string>,
): Promise<Answer> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: address,
        port: cfg.port,
        method,
        path,
        servername: cfg.fqdn,
        ca,
        // A new connection per request: a client that resolved the name connects afresh, and a dead child shows at once.
        agent: false,
        timeout: cfg.timeoutMs,
        headers: {
          Host: cfg.fqdn,
          ...(body ? { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${cfg.timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** A response body as a short single line for the timeline. Pure. */
export function oneLine(text: string, max = 400): string {
  return text
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, max);
}

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether the app acknowledged: a write only on 201 with the new note's id, a read only on 200 with the list. Pure. */
export function acknowledged(kind: SampleKind, answer: Answer): boolean {
  const parsed = json(answer.body) as { id?: unknown; notes?: unknown } | undefined;
  if (kind === "write") return answer.status === 201 && typeof parsed?.id === "number";
  return answer.status === 200 && Array.isArray(parsed?.notes);
}

/** Start at `perSecond` until `stopped()`; each tick's request runs on its own. Resolves when the last one finished. */
async function fixedRate(perSecond: number, stopped: () => boolean, one: (seq: number) => Promise<void>): Promise<void> {
  if (perSecond <= 0) return;
  const interval = 1000 / perSecond;
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  for (let seq = 0; !stopped(); seq++) {
    const p = one(seq).finally(() => inFlight.delete(p));
    inFlight.add(p);
    // Against the schedule, not the previous request: the rate stays fixed whatever the latency.
    const wait = started + (seq + 1) * interval - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(inFlight);
}

export async function runClient(cfg: ClientConfig, emit: (s: Sample) => void, stopped: () => boolean): Promise<void> {
  const resolver = new Resolver({ timeout: 1000, tries: 2 });
  resolver.setServers([`${cfg.dnsServer}:${cfg.dnsPort}`]);
  const targets = new RoundRobinTargets(async () => resolver.resolve4(cfg.fqdn, { ttl: true }));
  const ca = fs.readFileSync(cfg.caFile, "utf8");

  const probe = async (kind: SampleKind, seq: number) => {
    const id = kind === "write" ? `${cfg.idPrefix}-${seq}` : undefined;
    const start = Date.now();
    let target = "";
    try {
      target = await targets.next();
      const answer = await (kind === "write"
        ? request(cfg, ca, target, "POST", "/notes/", { text: id! })
        : request(cfg, ca, target, "GET", "/notes/"));
      const ok = acknowledged(kind, answer);
      emit({
        kind,
        seq,
        id,
        target,
        start,
        end: Date.now(),
        ok,
        status: answer.status,
        ...(ok ? {} : { error: `HTTP ${answer.status} ${oneLine(answer.body)}` }),
      });
    } catch (error) {
      emit({
        kind,
        seq,
        id,
        target: target || "(unresolved)",
        start,
        end: Date.now(),
        ok: false,
        status: 0,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };
  await Promise.all([
    fixedRate(cfg.writesPerSecond, stopped, (seq) => probe("write", seq)),
    fixedRate(cfg.readsPerSecond, stopped, (seq) => probe("read", seq)),
  ]);
}

if (require.main === module) {
  const cfg = ClientConfig.parse(JSON.parse(process.argv[2] ?? "{}"));
  let stop = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => (stop = true));
  runClient(
    cfg,
    (s) => process.stdout.write(`${JSON.stringify(s)}\n`),
    () => stop,
  ).then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`drill client: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
