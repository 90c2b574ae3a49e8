/**
 * CIDR parsing for every place that reads one (the stack config's adminCidrs, the roles' facts): one
 * canonical parser on ipaddr.js, never a regex. Pure.
 *
 * Canonical means: every spelling of the same range gives the same text (`0.0.0.0/00` → `0.0.0.0/0`,
 * `::0/0` → `::/0`, `2001:DB8:0::/48` → `2001:db8::/48`), so duplicate checks, the "from anywhere" check
 * and resource names see one form.
 */
import ipaddr from "ipaddr.js";

export interface Cidr {
  family: 4 | 6;
  /** Network address in canonical form (IPv6 as RFC 5952). */
  network: string;
  prefix: number;
  /** `network/prefix`. */
  text: string;
  /** First address of the range, as a number. */
  start: bigint;
  /** Number of addresses in the range. */
  size: bigint;
}

export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; fix: string };

const BITS = { 4: 32, 6: 128 } as const;

function toBigInt(bytes: number[]): bigint {
  return bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

function fromBigInt(value: bigint, family: 4 | 6): string {
  const count = family === 4 ? 4 : 16;
  const bytes: number[] = [];
  for (let i = count - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  return family === 4 ? new ipaddr.IPv4(bytes).toString() : new ipaddr.IPv6(bytes).toRFC5952String();
}

function canonicalAddress(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  return addr.kind() === "ipv4" ? addr.toString() : (addr as ipaddr.IPv6).toRFC5952String();
}

/** Parse one address (no prefix length) canonically, or undefined when it is not one. Four-part decimal IPv4 only. */
export function parseAddress(text: string): { family: 4 | 6; text: string } | undefined {
  if (text.includes("%")) return undefined;
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return { family: 4, text: ipaddr.IPv4.parse(text).toString() };
  if (text.includes(":") && ipaddr.IPv6.isValid(text)) return { family: 6, text: ipaddr.IPv6.parse(text).toRFC5952String() };
  return undefined;
}

/**
 * Parse a CIDR such as `203.0.113.0/24` or `2001:db8::/48`. Refuses, with the fix: a missing prefix
 * length, IPv4 written other than as four decimal numbers (`010.0.0.1`, `10.1`, `0x0a…` mean different
 * addresses to different tools), zone ids, IPv4-mapped IPv6 ranges (cloud firewalls match IPv4 traffic only
 * against IPv4 rules), and host bits set ("did you mean the network, or this one address?").
 */
export function parseCidr(value: unknown): CidrParse {
  const example = "e.g. 203.0.113.7/32 for one address or 198.51.100.0/24 for a network";
  if (typeof value !== "string") return { ok: false, fix: `must be a CIDR written as text, ${example}` };
  const trimmed = value.trim();
  if (trimmed !== value) {
    const inner = parseCidr(trimmed);
    return { ok: false, fix: `has spaces around it; write ${JSON.stringify(inner.ok ? inner.cidr.text : trimmed)}` };
  }
  const slash = value.lastIndexOf("/");
  if (slash < 0) {
    const addr = parseAddress(value);
    if (addr)
      return {
        ok: false,
        fix: `has no prefix length; write ${addr.text}/${BITS[addr.family]} for this one address (or the network it belongs to, e.g. /24)`,
      };
    return { ok: false, fix: `must be a CIDR, ${example}` };
  }
  const addrText = value.slice(0, slash);
  const prefixText = value.slice(slash + 1);
  if (addrText.includes("%"))
    return { ok: false, fix: `has a zone id (${addrText.slice(addrText.indexOf("%"))}), which means nothing to a firewall; remove it` };
  const addr = parseAddress(addrText);
  if (!addr) {
    if (!addrText.includes(":") && ipaddr.IPv4.isValid(addrText)) {
      const read = ipaddr.IPv4.parse(addrText).toString();
      return {
        ok: false,
        fix: `writes the IPv4 address other than as four decimal numbers (some tools read ${JSON.stringify(addrText)} as ${read}, others differently); write it as four numbers 0-255 without leading zeros, e.g. ${read}/${prefixText}`,
      };
    }
    return { ok: false, fix: `does not start with an IPv4 or IPv6 address; ${example}` };
  }
  const maxBits = BITS[addr.family];
  if (!/^\d{1,10}$/.test(prefixText) || Number(prefixText) > maxBits) {
    return {
      ok: false,
      fix: `has prefix length ${JSON.stringify(prefixText)}; an IPv${addr.family} prefix length is a number from 0 to ${maxBits}`,
    };
  }
  const prefix = Number(prefixText);
  const parsed = ipaddr.parse(addr.text);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
    const v4 = parseCidr(`${(parsed as ipaddr.IPv6).toIPv4Address().toString()}/${prefix - 96}`);
    const asV4 = v4.ok ? v4.cidr.text : `${(parsed as ipaddr.IPv6).toIPv4Address().toString()}/${prefix - 96}`;
    const broad =
      v4.ok && v4.cidr.size > ANYWHERE_THRESHOLD[4]
        ? ` (more than a ${ANYWHERE_THRESHOLD_TEXT[4]}: SSH from anywhere, which needs django-ha:allowSshFromAnywhere)`
        : "";
    return {
      ok: false,
      fix: `is an IPv4-mapped IPv6 range; cloud firewalls match IPv4 traffic only against IPv4 rules: write it as IPv4, ${asV4}${broad}`,
    };
  }
  const value_ = toBigInt(parsed.toByteArray());
  const hostBits = BigInt(maxBits - prefix);
  const size = 1n << hostBits;
  const start = (value_ >> hostBits) << hostBits;
  const network = fromBigInt(start, addr.family);
  if (start !== value_) {
    return {
      ok: false,
      fix: `has host bits set: did you mean ${network}/${prefix} (the whole network), or ${canonicalAddress(parsed)}/${maxBits} (this one address)?`,
    };
  }
  return { ok: true, cidr: { family: addr.family, network, prefix, text: `${network}/${prefix}`, start, size } };
}

/** Canonical text of a CIDR; throws on one parseCidr refuses (for values that were validated already). */
export function canonicalCidr(value: string): string {
  const r = parseCidr(value);
  if (!r.ok) throw new Error(`${JSON.stringify(value)} ${r.fix}`);
  return r.cidr.text;
}

/** Addresses covered per family after merging overlapping ranges. Pure. */
export function coverage(cidrs: readonly Cidr[]): { 4: bigint; 6: bigint } {
  const total = { 4: 0n, 6: 0n };
  for (const family of [4, 6] as const) {
    const ranges = cidrs
      .filter((c) => c.family === family)
      .map((c) => [c.start, c.start + c.size] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let end = -1n;
    for (const [s, e] of ranges) {
      if (s >= end) total[family] += e - s;
      else if (e > end) total[family] += e - end;
      if (e > end) end = e;
    }
  }
  return total;
}

/**
 * How much of the address space SSH may be open to before it counts as "from anywhere" and needs
 * django-ha:allowSshFromAnywhere:
 * - IPv4: one /8 (16,777,216 addresses) in total after merging overlaps. A /8 is the largest block any
 *   single organisation was ever allocated (the legacy class A networks, RFC 1918's 10/8); an office,
 *   a VPN or a bastion needs far less, so more than that spans networks the operator does not control.
 * - IPv6: one /32. /32 is the RIRs' minimum allocation to an ISP (RIPE-738, ARIN NRPM 6.5.2): a range
 *   larger than that covers whole providers, not the operator's networks.
 */
export const ANYWHERE_THRESHOLD = { 4: 1n << 24n, 6: 1n << 96n } as const;
export const ANYWHERE_THRESHOLD_TEXT = { 4: "/8", 6: "/32" } as const;

/** The families in which `cidrs` together exceed ANYWHERE_THRESHOLD. Pure. */
export function broaderThanThreshold(cidrs: readonly Cidr[]): (4 | 6)[] {
  const c = coverage(cidrs);
  return ([4, 6] as const).filter((f) => c[f] > ANYWHERE_THRESHOLD[f]);
}

/** Compact count for messages: 2^n when it is a power of two. */
export function describeCount(n: bigint): string {
  const log = n.toString(2).length - 1;
  return n === 1n << BigInt(log) && log >= 16 ? `2^${log}` : n.toLocaleString("en");
}
