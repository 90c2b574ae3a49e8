/**
 * DnsOperations on DigitalOcean DNS: the round-robin record is one A record per member in the domain's
 * record list (API v2 `/domains/{domain}/records`). Names are sent relative to the domain ("www", "@"),
 * as the Pulumi program declares them, so both sides agree. Records with the same name share one TTL:
 * every change first brings the existing records to the new TTL, then adds, then removes — so the record
 * is never empty while members are swapped.
 */
import { UserError } from "../../model/errors";
import { DigitalOceanApi, type DigitalOceanApiOptions } from "../digitalocean/api";
import { normalizeName, sortMembers, validateMembers, validateTxt } from "./members";
import type { DnsOperations, RecordMember } from "./types";

/** DigitalOcean refuses TTLs under 30 s. */
export const DIGITALOCEAN_MIN_TTL = 30;

export interface DigitalOceanDnsOptions extends DigitalOceanApiOptions {
  /** The domain as registered in DigitalOcean DNS, e.g. `example.com`. */
  domain: string;
  /**
   * Node name → public address, used to name members returned by `listMembers` (DigitalOcean records carry
   * no node name). Defaults to none: members are then named by their address.
   */
  nodeAddresses?: Record<string, string>;
}

/** A domain record as the API returns it (fields we use). */
export interface DigitalOceanRecord {
  id: number;
  type: string;
  name: string;
  data: string;
  ttl: number;
}

/** `www.example.com` in `example.com` → `www`; the apex → `@`. Throws for names outside the domain. */
export function relativeRecordName(fqdn: string, domain: string): string {
  const name = normalizeName(fqdn);
  const zone = normalizeName(domain);
  if (name === zone || name === "@") return "@";
  if (name.endsWith(`.${zone}`)) return name.slice(0, -(zone.length + 1));
  throw new UserError(
    `Record ${JSON.stringify(fqdn)} is not inside the DigitalOcean domain ${JSON.stringify(domain)}: use a name ending in .${zone}, or pass the domain that holds it.`,
  );
}

export class DigitalOceanDns implements DnsOperations {
  readonly describe: string;
  private readonly api: DigitalOceanApi;
  private readonly domain: string;
  private readonly nameByAddress: Map<string, string>;

  constructor(options: DigitalOceanDnsOptions) {
    this.domain = normalizeName(options.domain);
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(this.domain)) {
      throw new UserError(
        `DigitalOcean DNS domain = ${JSON.stringify(options.domain)}: not a domain name; pass the zone as registered in DigitalOcean, e.g. "example.com".`,
      );
    }
    this.api = new DigitalOceanApi(options);
    this.nameByAddress = new Map(Object.entries(options.nodeAddresses ?? {}).map(([name, address]) => [address, name]));
    this.describe = `digitalocean domain ${this.domain}`;
  }

  private path(): string {
    return `/domains/${encodeURIComponent(this.domain)}/records`;
  }

  /** The records of `fqdn` of one type, A by default (the API filters by full name and type; we check again). */
  async records(fqdn: string, type: "A" | "TXT" = "A"): Promise<DigitalOceanRecord[]> {
    const relative = relativeRecordName(fqdn, this.domain);
    const full = relative === "@" ? this.domain : `${relative}.${this.domain}`;
    const all = await this.api.list<DigitalOceanRecord>(`${this.path()}?type=${type}&name=${encodeURIComponent(full)}`, "domain_records");
    return all.filter((r) => r.type === type && normalizeName(r.name) === relative);
  }

  async listMembers(fqdn: string): Promise<RecordMember[]> {
    const records = await this.records(fqdn);
    return sortMembers(records.map((r) => ({ name: this.nameByAddress.get(r.data) ?? r.data, address: r.data })));
  }

  async setMembers(fqdn: string, members: RecordMember[], ttl: number): Promise<void> {
    const relative = relativeRecordName(fqdn, this.domain);
    validateMembers(this.describe, fqdn, members, ttl, DIGITALOCEAN_MIN_TTL);
    const wanted = new Set(members.map((m) => m.address));
    const current = await this.records(fqdn);
    const kept = new Map<string, DigitalOceanRecord>();
    const extra: DigitalOceanRecord[] = [];
    for (const r of current) {
      if (wanted.has(r.data) && !kept.has(r.data)) kept.set(r.data, r);
      else extra.push(r);
    }
    // Every record of the name, also those about to go, must carry the new TTL before one is created with it.
    await this.alignTtl(current, ttl);
    for (const m of members) if (!kept.has(m.address)) await this.create(relative, m.address, ttl);
    for (const r of extra) await this.delete(r);
  }

  async addMember(fqdn: string, member: RecordMember, ttl: number): Promise<void> {
    const relative = relativeRecordName(fqdn, this.domain);
    validateMembers(this.describe, fqdn, [member], ttl, DIGITALOCEAN_MIN_TTL);
    const current = await this.records(fqdn);
    await this.alignTtl(current, ttl);
    if (!current.some((r) => r.data === member.address)) await this.create(relative, member.address, ttl);
  }

  async removeMember(fqdn: string, member: RecordMember): Promise<void> {
    relativeRecordName(fqdn, this.domain);
    validateMembers(this.describe, fqdn, [member]);
    for (const r of await this.records(fqdn)) if (r.data === member.address) await this.delete(r);
  }

  async setTxt(fqdn: string, values: string[], ttl: number): Promise<void> {
    const relative = relativeRecordName(fqdn, this.domain);
    validateTxt(this.describe, fqdn, values, ttl, DIGITALOCEAN_MIN_TTL);
    const current = await this.records(fqdn, "TXT");
    for (const r of current) if (r.ttl !== ttl) await this.api.request("PATCH", `${this.path()}/${r.id}`, { type: "TXT", ttl });
    for (const v of new Set(values))
      if (!current.some((r) => r.data === v)) await this.api.request("POST", this.path(), { type: "TXT", name: relative, data: v, ttl });
    for (const r of current) if (!values.includes(r.data)) await this.delete(r);
  }

  async listTxt(fqdn: string): Promise<string[]> {
    return (await this.records(fqdn, "TXT")).map((r) => r.data).sort();
  }

  async removeTxt(fqdn: string, values: string[]): Promise<void> {
    relativeRecordName(fqdn, this.domain);
    validateTxt(this.describe, fqdn, values);
    for (const r of await this.records(fqdn, "TXT")) if (values.includes(r.data)) await this.delete(r);
  }

  /** Records of one name must share one TTL: bring every kept record to `ttl` before adding new ones. */
  private async alignTtl(records: DigitalOceanRecord[], ttl: number): Promise<void> {
    for (const r of records) {
      if (r.ttl !== ttl) await this.api.request("PATCH", `${this.path()}/${r.id}`, { type: "A", ttl });
    }
  }

  private async create(relative: string, address: string, ttl: number): Promise<void> {
    await this.api.request("POST", this.path(), { type: "A", name: relative, data: address, ttl });
  }

  private async delete(record: DigitalOceanRecord): Promise<void> {
    await this.api.request("DELETE", `${this.path()}/${record.id}`);
  }
}
