import { Resolver } from "node:dns/promises";
import { run } from "../process";
import { validateTxt } from "./members";
import type { DnsOperations, RecordMember } from "./types";

/** How to reach an RFC 2136 server and sign updates (TSIG). */
export interface Rfc2136Options {
  server: string;
  /** Defaults to 53. */
  port?: number;
  /** Zone the records live in, e.g. "lab.test". */
  zone: string;
  keyName: string;
  /** TSIG algorithm, e.g. "hmac-sha256". */
  algorithm: string;
  /** TSIG secret (base64). Sent to nsupdate on stdin, never on a command line, never printed. */
  secret: string;
  /** Names for known addresses: DNS only holds addresses, listMembers names the ones it knows. */
  names?: Record<string, string>;
  /** Seconds nsupdate waits for the server. Defaults to 10. */
  timeoutSeconds?: number;
}

/** One change of an nsupdate script. */
export type RecordChange =
  | { op: "replace"; fqdn: string; addresses: string[]; ttl: number }
  | { op: "add"; fqdn: string; address: string; ttl: number }
  | { op: "remove"; fqdn: string; address: string }
  | { op: "setTxt"; fqdn: string; values: string[]; ttl: number }
  | { op: "removeTxt"; fqdn: string; values: string[] };

const absolute = (name: string) => (name.endsWith(".") ? name : `${name}.`);

/**
 * The nsupdate script for one atomic update (one `send`), TSIG key included (it goes to stdin). Pure.
 * `replace` deletes the whole A RRset and adds the members, so the record ends exactly as given with one TTL.
 */
export function nsupdateScript(o: Omit<Rfc2136Options, "names" | "timeoutSeconds">, changes: readonly RecordChange[]): string {
  const lines = [`server ${o.server} ${o.port ?? 53}`, `key ${o.algorithm}:${o.keyName} ${o.secret}`, `zone ${absolute(o.zone)}`];
  for (const c of changes) {
    const fqdn = absolute(c.fqdn);
    switch (c.op) {
      case "replace":
        lines.push(`update delete ${fqdn} A`);
        for (const a of c.addresses) lines.push(`update add ${fqdn} ${c.ttl} IN A ${a}`);
        break;
      case "add":
        lines.push(`update add ${fqdn} ${c.ttl} IN A ${c.address}`);
        break;
      case "remove":
        lines.push(`update delete ${fqdn} IN A ${c.address}`);
        break;
      case "setTxt":
        lines.push(`update delete ${fqdn} TXT`);
        for (const v of c.values) lines.push(`update add ${fqdn} ${c.ttl} IN TXT "${v}"`);
        break;
      case "removeTxt":
        for (const v of c.values) lines.push(`update delete ${fqdn} IN TXT "${v}"`);
        break;
      default: {
        const never: never = c;
        throw new Error(`unknown change ${JSON.stringify(never)}`);
      }
    }
  }
  lines.push("send", "");
  return lines.join("\n");
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Check inputs before anything is sent: bad names, addresses or TTLs name the value and the fix. Pure. */
export function validateChange(zone: string, c: RecordChange): void {
  const fqdn = c.fqdn.replace(/\.$/, "");
  const z = zone.replace(/\.$/, "");
  if (!(fqdn === z || fqdn.endsWith(`.${z}`))) {
    throw new Error(`fqdn "${c.fqdn}" is not in zone "${zone}": use a name ending in .${z}`);
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(fqdn))
    throw new Error(`fqdn "${c.fqdn}" has characters a DNS name cannot have: use letters, digits, "-" and "."`);
  if (c.op === "setTxt" || c.op === "removeTxt") {
    validateTxt(`rfc2136 zone ${zone}`, c.fqdn, c.values, c.op === "setTxt" ? c.ttl : undefined);
    return;
  }
  const addrs = c.op === "replace" ? c.addresses : [c.address];
  for (const a of addrs)
    if (!IPV4.test(a)) throw new Error(`address "${a}" for ${c.fqdn} is not an IPv4 address: give a dotted quad such as 10.231.0.21`);
  if (c.op !== "remove" && !(Number.isInteger(c.ttl) && c.ttl >= 1 && c.ttl <= 604800)) {
    throw new Error(`ttl ${c.ttl} for ${c.fqdn} is not a whole number of seconds between 1 and 604800: give e.g. 30`);
  }
}

/**
 * DnsOperations over RFC 2136 dynamic updates signed with TSIG: the `hosts` target's adapter and the lab's.
 * Updates run `nsupdate` (bind9-dnsutils); reads use Node's own resolver pointed at the server (no extra
 * process, and it returns TTLs).
 */
export class Rfc2136Dns implements DnsOperations {
  readonly describe: string;

  constructor(private readonly o: Rfc2136Options) {
    if (!o.secret) throw new Error(`TSIG secret for key "${o.keyName}" is empty: pass the key's base64 secret`);
    this.describe = `rfc2136 ${o.server}:${o.port ?? 53} zone ${o.zone} key ${o.keyName}`;
  }

  /** A records of `fqdn` with their TTL, sorted by address. */
  async listRecords(fqdn: string): Promise<{ address: string; ttl: number }[]> {
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([`${this.o.server}:${this.o.port ?? 53}`]);
    try {
      const records = await resolver.resolve4(fqdn.replace(/\.$/, ""), { ttl: true });
      return records.sort((a, b) => compareAddresses(a.address, b.address));
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "ENODATA" || code === "ENOTFOUND") return [];
      throw new Error(`${this.describe}: looking up ${fqdn} failed: ${(e as Error).message}`);
    }
  }

  async listMembers(fqdn: string): Promise<RecordMember[]> {
    return (await this.listRecords(fqdn)).map((r) => ({ name: this.o.names?.[r.address] ?? r.address, address: r.address }));
  }

  async setMembers(fqdn: string, members: RecordMember[], ttl: number): Promise<void> {
    await this.apply({ op: "replace", fqdn, addresses: [...new Set(members.map((m) => m.address))].sort(compareAddresses), ttl });
  }

  async addMember(fqdn: string, member: RecordMember, ttl: number): Promise<void> {
    await this.apply({ op: "add", fqdn, address: member.address, ttl });
  }

  async removeMember(fqdn: string, member: RecordMember): Promise<void> {
    await this.apply({ op: "remove", fqdn, address: member.address });
  }

  /** TXT values as the server answers (a value split into several strings is joined). */
  async listTxt(fqdn: string): Promise<string[]> {
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([`${this.o.server}:${this.o.port ?? 53}`]);
    try {
      return (await resolver.resolveTxt(fqdn.replace(/\.$/, ""))).map((chunks) => chunks.join("")).sort();
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "ENODATA" || code === "ENOTFOUND") return [];
      throw new Error(`${this.describe}: looking up TXT ${fqdn} failed: ${(e as Error).message}`);
    }
  }

  async setTxt(fqdn: string, values: string[], ttl: number): Promise<void> {
    await this.apply({ op: "setTxt", fqdn, values: [...new Set(values)], ttl });
  }

  async removeTxt(fqdn: string, values: string[]): Promise<void> {
    if (values.length > 0) await this.apply({ op: "removeTxt", fqdn, values });
  }

  private async apply(change: RecordChange): Promise<void> {
    validateChange(this.o.zone, change);
    const script = nsupdateScript(this.o, [change]);
    const timeout = String(this.o.timeoutSeconds ?? 10);
    const { code, output } = await runWithStdin("nsupdate", ["-t", timeout, "-u", timeout], script);
    // nsupdate echoes nothing secret; its output is the server's answer (e.g. REFUSED, NOTAUTH).
    if (code !== 0) throw new Error(`${this.describe}: nsupdate ${change.op} ${change.fqdn} failed (exit ${code}): ${output.trim()}`);
  }
}

function compareAddresses(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

async function runWithStdin(cmd: string, args: string[], input: string): Promise<{ code: number; output: string }> {
  try {
    const r = await run({ cmd, args }, { input, allowFail: true });
    return { code: r.code, output: `${r.stdout}${r.stderr}` };
  } catch (e) {
    throw new Error(`${(e as Error).message} (install bind9-dnsutils: apt-get install -y bind9-dnsutils)`);
  }
}
