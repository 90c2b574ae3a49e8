/**
 * DNS-01: the TXT record `_acme-challenge.<name>` set through the same DnsOperations adapter as the
 * round-robin record, then the agent waits until the zone's authoritative servers answer with it (the CA
 * asks them, not a cache), and only then tells the CA.
 */
import { Resolver } from "node:dns/promises";
import type { DnsOperations } from "../dns/types";

/** `_acme-challenge.<name>`; a wildcard's authorization is for its base name. */
export function challengeName(identifier: string): string {
  return `_acme-challenge.${identifier.replace(/^\*\./, "").replace(/\.$/, "")}`;
}

/** TTL of the challenge record: short, and DigitalOcean's minimum is 30 s. */
export const CHALLENGE_TTL = 60;

export type TxtLookup = (server: string, fqdn: string) => Promise<string[]>;

/** TXT values of `fqdn` as `server` ("address" or "address:port") answers them. */
export const lookupTxt: TxtLookup = async (server, fqdn) => {
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([server]);
  try {
    return (await r.resolveTxt(fqdn)).map((chunks) => chunks.join(""));
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENODATA" || code === "ENOTFOUND") return [];
    throw e;
  }
};

/**
 * The authoritative servers of the zone holding `fqdn` (walks up the labels until one has NS records),
 * as addresses. Uses the system resolver only to find them.
 */
export interface NsResolver {
  resolveNs(name: string): Promise<string[]>;
  resolve4(name: string): Promise<string[]>;
}

export async function authoritativeServers(fqdn: string, resolver: NsResolver = new Resolver()): Promise<string[]> {
  const labels = fqdn.replace(/\.$/, "").split(".");
  for (let i = 0; i < labels.length - 1; i++) {
    let ns: string[];
    try {
      ns = await resolver.resolveNs(labels.slice(i).join("."));
    } catch {
      continue;
    }
    if (ns.length === 0) continue;
    const addresses = (await Promise.all(ns.map((n) => resolver.resolve4(n).catch(() => [] as string[])))).flat();
    if (addresses.length > 0) return [...new Set(addresses)].sort();
  }
  throw new Error(`no authoritative DNS server found for ${fqdn} (no NS records on any parent name): is the zone delegated?`);
}

export interface PropagationOptions {
  servers: string[];
  timeoutMs: number;
  intervalMs: number;
  lookup?: TxtLookup;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** Wait until every server answers `fqdn` with all `values`; throws naming the servers still without them. */
export async function waitForTxt(fqdn: string, values: string[], o: PropagationOptions): Promise<void> {
  const lookup = o.lookup ?? lookupTxt;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = o.now ?? Date.now;
  const deadline = now() + o.timeoutMs;
  let missing = [...o.servers];
  for (;;) {
    const answers = await Promise.all(missing.map((s) => lookup(s, fqdn).catch(() => [] as string[])));
    missing = missing.filter((_, i) => !values.every((v) => answers[i].includes(v)));
    if (missing.length === 0) return;
    if (now() >= deadline)
      throw new Error(
        `dns-01: ${fqdn} TXT not answered by ${missing.join(", ")} within ${Math.round(o.timeoutMs / 1000)} s, so the CA was not asked`,
      );
    await sleep(o.intervalMs);
  }
}

/**
 * The TXT values of each challenge name, set and removed together: an apex and its wildcard share one
 * name and each needs its own value there at the same time.
 */
export class TxtChallenges {
  private readonly values = new Map<string, string[]>();

  constructor(private readonly dns: DnsOperations) {}

  async add(fqdn: string, value: string): Promise<string[]> {
    const all = [...new Set([...(this.values.get(fqdn) ?? []), value])];
    this.values.set(fqdn, all);
    await this.dns.setTxt(fqdn, all, CHALLENGE_TTL);
    return all;
  }

  async remove(fqdn: string, value: string): Promise<void> {
    this.values.set(
      fqdn,
      (this.values.get(fqdn) ?? []).filter((v) => v !== value),
    );
    await this.dns.removeTxt(fqdn, [value]);
  }
}
