/**
 * Reading the round-robin record for `status`. Reading needs no write credential where the protocol allows it:
 * an RFC 2136 server answers plain queries (the TSIG key is only for updates). DigitalOcean and Route 53 are
 * read through their adapters (ops/targets dnsFor), which need the same credentials as the failover.
 */
import { Resolver } from "node:dns/promises";
import type { Inventory } from "../../model";
import type { RecordMember } from "../dns/types";
import { dnsFor, type DnsCredentials } from "../targets/dns";

/** A reader of the inventory's record members. */
export function recordReader(inventory: Inventory, credentials: DnsCredentials = {}): (fqdn: string) => Promise<RecordMember[]> {
  const dns = inventory.dns;
  if (dns.kind !== "rfc2136") return (fqdn) => dnsFor(inventory, credentials).listMembers(fqdn);
  const names = new Map(inventory.nodes.map((n) => [n.publicAddress, n.name]));
  return async (fqdn) => {
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([`${dns.server}:${dns.port}`]);
    try {
      const addresses = await resolver.resolve4(fqdn.replace(/\.$/, ""));
      return addresses.sort().map((address) => ({ name: names.get(address) ?? address, address }));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ENODATA" || code === "ENOTFOUND") return [];
      throw new Error(`${dns.server}:${dns.port}: looking up ${fqdn} failed: ${(err as Error).message}`);
    }
  };
}
