/**
 * Checks and helpers every DNS adapter shares: input validated before any change, members in one order.
 */
import { isIPv4 } from "node:net";
import { UserError } from "../../model/errors";
import type { RecordMember } from "./types";

/** Address order (numeric per octet), the order `listMembers` promises. */
export function compareAddresses(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

export function sortMembers(members: RecordMember[]): RecordMember[] {
  return [...members].sort((x, y) => compareAddresses(x.address, y.address) || x.name.localeCompare(y.name));
}

/** Throws one UserError listing every bad member and the TTL problem, before anything is changed. */
export function validateMembers(adapter: string, fqdn: string, members: RecordMember[], ttl?: number, minTtl = 1): void {
  const problems: string[] = [];
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < minTtl)) {
    problems.push(
      `ttl = ${JSON.stringify(ttl)}: must be a whole number of seconds ≥ ${minTtl} (${adapter}'s minimum); set the stack's ttl to ${minTtl} or more`,
    );
  }
  const seenAddress = new Map<string, string>();
  const seenName = new Set<string>();
  for (const [i, m] of members.entries()) {
    if (!m.name || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(m.name)) {
      problems.push(`members[${i}].name = ${JSON.stringify(m.name)}: use the node's name (letters, digits, ".", "_", "-")`);
    } else if (seenName.has(m.name)) {
      problems.push(`members[${i}].name = ${JSON.stringify(m.name)}: listed twice; give each node once`);
    }
    seenName.add(m.name);
    if (!isIPv4(m.address)) {
      problems.push(`members[${i}].address = ${JSON.stringify(m.address)}: not an IPv4 address; use the node's public IPv4 address`);
    } else if (seenAddress.has(m.address)) {
      problems.push(
        `members[${i}].address = ${JSON.stringify(m.address)}: also used by ${seenAddress.get(m.address)}; each member needs its own address`,
      );
    }
    seenAddress.set(m.address, m.name);
  }
  if (problems.length > 0) {
    throw new UserError(`Refusing to change ${fqdn} with ${adapter} (nothing was changed):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** `www.example.com.` → `www.example.com` (lower case, no trailing dot). */
export function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.+$/, "");
}

/**
 * TXT values we write: printable ASCII without quotes or backslashes, at most 255 characters (one string),
 * so every adapter can quote them the same simple way. ACME DNS-01 values are 43 base64url characters.
 */
export function validateTxt(adapter: string, fqdn: string, values: string[], ttl?: number, minTtl = 1): void {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_.-]+$/.test(normalizeName(fqdn)))
    problems.push(`name = ${JSON.stringify(fqdn)}: use letters, digits, "_", "-" and "."`);
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < minTtl))
    problems.push(`ttl = ${JSON.stringify(ttl)}: must be a whole number of seconds ≥ ${minTtl} (${adapter}'s minimum)`);
  for (const [i, v] of values.entries()) {
    if (!/^[\x20\x21\x23-\x5b\x5d-\x7e]{1,255}$/.test(v))
      problems.push(`values[${i}] = ${JSON.stringify(v)}: use 1 to 255 printable ASCII characters without quotes or backslashes`);
  }
  if (problems.length > 0)
    throw new UserError(
      `Refusing to change the TXT record ${fqdn} with ${adapter} (nothing was changed):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
}

/** One TXT value from its quoted presentation form (`"abc"`, or several quoted strings joined). */
export function unquoteTxt(value: string): string {
  const parts = [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, "$1"));
  return parts.length > 0 ? parts.join("") : value;
}
