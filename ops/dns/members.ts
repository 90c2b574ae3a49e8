/**
 * Checks and helpers every DNS adapter shares: input validated before any change, members in one order.
 */
import { isIPv4 } from "node:net";
import { UserError } from "../../spec/errors";
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
    problems.push(`ttl = ${JSON.stringify(ttl)}: must be a whole number of seconds ≥ ${minTtl} (${adapter}'s minimum); set the stack's ttl to ${minTtl} or more`);
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
      problems.push(`members[${i}].address = ${JSON.stringify(m.address)}: also used by ${seenAddress.get(m.address)}; each member needs its own address`);
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
