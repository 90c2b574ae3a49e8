/**
 * DnsOperations on Route 53: the round-robin record is a set of multivalue-answer A records of one name,
 * one per member, keyed by `SetIdentifier` = node name and carrying that node's health check when it has
 * one (Route 53 then answers with up to 8 healthy members). Every change is one atomic
 * ChangeResourceRecordSets batch of UPSERTs and DELETEs; waiting for INSYNC is optional.
 */
import {
  type Change,
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandOutput,
  type ResourceRecordSet,
  Route53Client,
  waitUntilResourceRecordSetsChanged,
} from "@aws-sdk/client-route-53";
import { UserError } from "../../model/errors";
import { normalizeName, sortMembers, unquoteTxt, validateMembers, validateTxt } from "./members";
import type { DnsOperations, RecordMember } from "./types";

export interface Route53DnsOptions {
  /** The hosted zone holding the record, e.g. `Z0123456789ABCDEFGHIJ` (a `/hostedzone/` prefix is accepted). */
  hostedZoneId: string;
  /** Node name → Route 53 health check id; members without one are always answered. Defaults to none. */
  healthCheckIds?: Record<string, string>;
  /** Wait until Route 53 reports the change INSYNC on all its servers. Defaults to false. */
  waitForSync?: boolean;
  /** Longest wait for INSYNC, in seconds. Defaults to 300. */
  maxWaitSeconds?: number;
  /** A configured client (tests, custom credentials). Defaults to a client for `us-east-1` (Route 53 is global) with the default credential chain. */
  client?: Route53Client;
}

/** Route 53 names are absolute: `www.example.com.` */
export function absoluteName(fqdn: string): string {
  return `${normalizeName(fqdn)}.`;
}

/** Route 53 lists `*` as `\052` and may keep other octal escapes: decode before comparing names. */
export function decodeRoute53Name(name: string): string {
  return name.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function sameName(a: string | undefined, b: string): boolean {
  return normalizeName(decodeRoute53Name(a ?? "")) === normalizeName(b);
}

/** The multivalue-answer record Route 53 should hold for one member. */
export function memberRecord(fqdn: string, member: RecordMember, ttl: number, healthCheckId?: string): ResourceRecordSet {
  return {
    Name: absoluteName(fqdn),
    Type: "A",
    SetIdentifier: member.name,
    MultiValueAnswer: true,
    TTL: ttl,
    ResourceRecords: [{ Value: member.address }],
    ...(healthCheckId ? { HealthCheckId: healthCheckId } : {}),
  };
}

function sameRecord(a: ResourceRecordSet, b: ResourceRecordSet): boolean {
  const values = (r: ResourceRecordSet) =>
    (r.ResourceRecords ?? [])
      .map((v) => v.Value)
      .sort()
      .join(",");
  return (
    a.SetIdentifier === b.SetIdentifier &&
    a.TTL === b.TTL &&
    values(a) === values(b) &&
    (a.HealthCheckId ?? "") === (b.HealthCheckId ?? "") &&
    a.MultiValueAnswer === b.MultiValueAnswer
  );
}

/** A plain (simple-routing) record: no set identifier. */
function isPlain(r: ResourceRecordSet): boolean {
  return r.SetIdentifier === undefined;
}

/**
 * Changes that retire the plain A records of the name. Route 53 refuses multivalue records beside a plain
 * record of the same name and type, so it is deleted in the same (atomic) batch, first; its addresses other
 * than `except` come back as members named by their address, so no address is lost unless asked.
 */
function retirePlain(fqdn: string, current: ResourceRecordSet[], except: Set<string>, ttl: number | undefined): Change[] {
  const changes: Change[] = [];
  for (const r of current.filter(isPlain)) {
    changes.push({ Action: "DELETE", ResourceRecordSet: r });
    for (const v of r.ResourceRecords ?? []) {
      if (v.Value && !except.has(v.Value)) {
        changes.push({ Action: "UPSERT", ResourceRecordSet: memberRecord(fqdn, { name: v.Value, address: v.Value }, ttl ?? r.TTL ?? 60) });
      }
    }
  }
  return changes;
}

/**
 * The change batch that makes the record's members exactly `members` (pure; exported for testing).
 * Unchanged members produce no change, so an empty batch means "already in sync".
 */
export function planSetMembers(
  fqdn: string,
  current: ResourceRecordSet[],
  members: RecordMember[],
  ttl: number,
  healthCheckIds: Record<string, string> = {},
): Change[] {
  const changes: Change[] = current.filter(isPlain).map((r) => ({ Action: "DELETE", ResourceRecordSet: r }));
  const bySetId = new Map(current.filter((r) => r.MultiValueAnswer).map((r) => [r.SetIdentifier, r]));
  for (const m of members) {
    const wanted = memberRecord(fqdn, m, ttl, healthCheckIds[m.name]);
    const existing = bySetId.get(m.name);
    if (!existing || !sameRecord(existing, wanted)) changes.push({ Action: "UPSERT", ResourceRecordSet: wanted });
  }
  const keep = new Set(members.map((m) => m.name));
  for (const r of current)
    if (r.MultiValueAnswer && !keep.has(r.SetIdentifier ?? "")) changes.push({ Action: "DELETE", ResourceRecordSet: r });
  return changes;
}

/** The change batch that adds one member (pure; exported for testing). Empty when it is already there as wanted. */
export function planAddMember(
  fqdn: string,
  current: ResourceRecordSet[],
  member: RecordMember,
  ttl: number,
  healthCheckId?: string,
): Change[] {
  const changes = retirePlain(fqdn, current, new Set([member.address]), ttl);
  const wanted = memberRecord(fqdn, member, ttl, healthCheckId);
  const existing = current.find((r) => r.MultiValueAnswer && r.SetIdentifier === member.name);
  if (!existing || !sameRecord(existing, wanted)) changes.push({ Action: "UPSERT", ResourceRecordSet: wanted });
  return changes;
}

/** The change batch that removes one member, by node name or (for a plain record) by address (pure; exported for testing). */
export function planRemoveMember(fqdn: string, current: ResourceRecordSet[], member: RecordMember): Change[] {
  const holdsIt = current.some((r) => isPlain(r) && (r.ResourceRecords ?? []).some((v) => v.Value === member.address));
  const changes = holdsIt ? retirePlain(fqdn, current, new Set([member.address]), undefined) : [];
  for (const r of current) {
    if (r.MultiValueAnswer && (r.SetIdentifier === member.name || (r.ResourceRecords ?? []).some((v) => v.Value === member.address))) {
      changes.push({ Action: "DELETE", ResourceRecordSet: r });
    }
  }
  return changes;
}

/** A simple-routing TXT record set; Route 53 wants each value quoted. */
export function txtRecord(fqdn: string, values: string[], ttl: number): ResourceRecordSet {
  return { Name: absoluteName(fqdn), Type: "TXT", TTL: ttl, ResourceRecords: values.map((v) => ({ Value: `"${v}"` })) };
}

/** The change that takes `values` out of the TXT set: UPSERT of the rest, or DELETE of the exact set when nothing is left (pure; exported for testing). */
export function planRemoveTxt(fqdn: string, current: ResourceRecordSet, values: string[]): Change[] {
  const have = (current.ResourceRecords ?? []).map((r) => unquoteTxt(r.Value ?? ""));
  const rest = have.filter((v) => !values.includes(v));
  if (rest.length === have.length) return [];
  if (rest.length === 0) return [{ Action: "DELETE", ResourceRecordSet: current }];
  return [{ Action: "UPSERT", ResourceRecordSet: txtRecord(fqdn, rest, current.TTL ?? 60) }];
}

export class Route53Dns implements DnsOperations {
  readonly describe: string;
  private readonly client: Route53Client;
  private readonly hostedZoneId: string;
  private readonly healthCheckIds: Record<string, string>;
  private readonly waitForSync: boolean;
  private readonly maxWaitSeconds: number;

  constructor(options: Route53DnsOptions) {
    this.hostedZoneId = options.hostedZoneId.replace(/^\/?hostedzone\//, "");
    if (!/^[A-Z0-9]{1,32}$/.test(this.hostedZoneId)) {
      throw new UserError(
        `Route 53 hostedZoneId = ${JSON.stringify(options.hostedZoneId)}: not a hosted zone id; use the id shown by \`aws route53 list-hosted-zones\`, e.g. "Z0123456789ABCDEFGHIJ".`,
      );
    }
    this.client = options.client ?? new Route53Client({ region: "us-east-1" });
    this.healthCheckIds = { ...(options.healthCheckIds ?? {}) };
    this.waitForSync = options.waitForSync ?? false;
    this.maxWaitSeconds = options.maxWaitSeconds ?? 300;
    this.describe = `route53 zone ${this.hostedZoneId}`;
  }

  /** All record sets of `fqdn` of one type, A by default (every routing policy), following pagination while it stays on the name. */
  async records(fqdn: string, type: "A" | "TXT" = "A"): Promise<ResourceRecordSet[]> {
    const name = absoluteName(fqdn);
    const out: ResourceRecordSet[] = [];
    let start: { name: string; identifier?: string } | undefined = { name };
    while (start) {
      const page: ListResourceRecordSetsCommandOutput = await this.client.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: this.hostedZoneId,
          StartRecordName: start.name,
          StartRecordType: type,
          ...(start.identifier ? { StartRecordIdentifier: start.identifier } : {}),
        }),
      );
      for (const r of page.ResourceRecordSets ?? []) {
        // Listing starts at the name and runs on through the zone: stop at the first other name or type.
        if (!sameName(r.Name, name) || r.Type !== type) return out;
        out.push(r);
      }
      start =
        page.IsTruncated && page.NextRecordName !== undefined && sameName(page.NextRecordName, name) && page.NextRecordType === type
          ? { name: page.NextRecordName, identifier: page.NextRecordIdentifier }
          : undefined;
    }
    return out;
  }

  async listMembers(fqdn: string): Promise<RecordMember[]> {
    const members = (await this.records(fqdn)).flatMap((r) =>
      (r.ResourceRecords ?? []).map((v) => ({ name: r.SetIdentifier ?? v.Value ?? "", address: v.Value ?? "" })),
    );
    return sortMembers(members);
  }

  async setMembers(fqdn: string, members: RecordMember[], ttl: number): Promise<void> {
    validateMembers(this.describe, fqdn, members, ttl, 0);
    const current = await this.records(fqdn);
    this.refuseForeign(fqdn, current);
    await this.apply(fqdn, "set members", planSetMembers(fqdn, current, members, ttl, this.healthCheckIds));
  }

  async addMember(fqdn: string, member: RecordMember, ttl: number): Promise<void> {
    validateMembers(this.describe, fqdn, [member], ttl, 0);
    const current = await this.records(fqdn);
    this.refuseForeign(fqdn, current);
    await this.apply(fqdn, `add ${member.name}`, planAddMember(fqdn, current, member, ttl, this.healthCheckIds[member.name]));
  }

  async removeMember(fqdn: string, member: RecordMember): Promise<void> {
    validateMembers(this.describe, fqdn, [member]);
    const current = await this.records(fqdn);
    this.refuseForeign(fqdn, current);
    await this.apply(fqdn, `remove ${member.name}`, planRemoveMember(fqdn, current, member));
  }

  async setTxt(fqdn: string, values: string[], ttl: number): Promise<void> {
    validateTxt(this.describe, fqdn, values, ttl, 0);
    await this.apply(fqdn, "set TXT", [{ Action: "UPSERT", ResourceRecordSet: txtRecord(fqdn, [...new Set(values)], ttl) }]);
  }

  async listTxt(fqdn: string): Promise<string[]> {
    const sets = (await this.records(fqdn, "TXT")).filter(isPlain);
    return sets.flatMap((r) => (r.ResourceRecords ?? []).map((v) => unquoteTxt(v.Value ?? ""))).sort();
  }

  async removeTxt(fqdn: string, values: string[]): Promise<void> {
    validateTxt(this.describe, fqdn, values);
    const current = (await this.records(fqdn, "TXT")).find(isPlain);
    if (current) await this.apply(fqdn, "remove TXT", planRemoveTxt(fqdn, current, values));
  }

  /** Weighted, failover, latency… records of the name are someone else's design: refuse rather than fight them. */
  private refuseForeign(fqdn: string, current: ResourceRecordSet[]): void {
    const foreign = current.filter((r) => !isPlain(r) && !r.MultiValueAnswer);
    if (foreign.length > 0) {
      const ids = foreign.map((r) => JSON.stringify(r.SetIdentifier)).join(", ");
      throw new UserError(
        `${fqdn} in ${this.describe} has A records with another routing policy (set identifiers ${ids}): django-ha keeps it as multivalue answers. Delete those records or pick another record name; nothing was changed.`,
      );
    }
  }

  private async apply(fqdn: string, what: string, changes: Change[]): Promise<void> {
    if (changes.length === 0) return;
    const result = await this.client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: this.hostedZoneId,
        ChangeBatch: { Comment: `django-ha: ${what} of ${normalizeName(fqdn)}`, Changes: changes },
      }),
    );
    if (this.waitForSync && result.ChangeInfo?.Id) {
      await waitUntilResourceRecordSetsChanged(
        { client: this.client, maxWaitTime: this.maxWaitSeconds, minDelay: 1, maxDelay: 15 },
        { Id: result.ChangeInfo.Id },
      );
    }
  }
}
