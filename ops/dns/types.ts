/**
 * The provider-neutral DNS operations the scripts use (failover repoints, children join/leave).
 * One adapter per target: DigitalOcean API, Route 53, RFC 2136 (hosts target and the lab).
 */
export interface RecordMember {
  /** Node name; adapters that key records per member (Route 53 setIdentifier) use it. */
  name: string;
  /** IPv4 address published in the A record. */
  address: string;
}

export interface DnsOperations {
  /** Human label for progress output, e.g. "rfc2136 10.231.0.2 zone lab.test". */
  readonly describe: string;
  /** Current members of the round-robin record (A records of `fqdn`), sorted by address. */
  listMembers(fqdn: string): Promise<RecordMember[]>;
  /** Make the record's members exactly `members`, all with `ttl`. Idempotent. */
  setMembers(fqdn: string, members: RecordMember[], ttl: number): Promise<void>;
  /** Add one member (no-op when present). */
  addMember(fqdn: string, member: RecordMember, ttl: number): Promise<void>;
  /** Remove one member (no-op when absent). */
  removeMember(fqdn: string, member: RecordMember): Promise<void>;
  /**
   * Make the TXT record of `fqdn` hold exactly `values` with `ttl` (ACME DNS-01: `_acme-challenge.<name>`,
   * one value per pending challenge of that name). Idempotent.
   */
  setTxt(fqdn: string, values: string[], ttl: number): Promise<void>;
  /** The values of the TXT record of `fqdn` as the provider holds them, sorted ([] when there is none). */
  listTxt(fqdn: string): Promise<string[]>;
  /** Remove these values from the TXT record of `fqdn`; the record goes when none is left. No-op when absent. */
  removeTxt(fqdn: string, values: string[]): Promise<void>;
}
