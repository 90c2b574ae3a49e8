/**
 * From a stack's inventory to its DNS operations: one exhaustive switch over the DNS targets, so a new
 * target makes the compiler point here.
 */
import { Route53Client } from "@aws-sdk/client-route-53";
import type { Inventory } from "../../model/topology";
import { DigitalOceanDns } from "../dns/digitalocean";
import { Rfc2136Dns } from "../dns/rfc2136";
import { Route53Dns } from "../dns/route53";
import type { DnsOperations } from "../dns/types";
import { digitalOceanToken, requireAwsCredentials, tsigSecret } from "./credentials";

export interface DnsCredentials {
  /** Environment the credentials are read from. Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Stack name, for the messages that say how to set a credential. Defaults to the inventory's cluster. */
  stack?: string;
  /** rfc2136: the TSIG secret when the caller holds it (the lab's key file). Defaults to DJANGO_HA_TSIG_SECRET. */
  tsigSecret?: string;
  /** route53: a configured client (tests). Defaults to one with the SDK's default credential chain. */
  route53Client?: Route53Client;
  /** Home directory the AWS shared files are looked for in. Defaults to os.homedir(). */
  home?: string;
}

/** The DnsOperations of the inventory's DNS target, with credentials from the environment. */
export function dnsFor(inventory: Inventory, credentials: DnsCredentials = {}): DnsOperations {
  const env = credentials.env ?? process.env;
  const names = Object.fromEntries(inventory.nodes.map((n) => [n.publicAddress, n.name]));
  const dns = inventory.dns;
  switch (dns.kind) {
    case "digitalocean":
      digitalOceanToken(env);
      return new DigitalOceanDns({
        domain: dns.domain,
        env,
        nodeAddresses: Object.fromEntries(inventory.nodes.map((n) => [n.name, n.publicAddress])),
      });
    case "route53":
      if (!credentials.route53Client) requireAwsCredentials(env, credentials.home);
      return new Route53Dns({ hostedZoneId: dns.hostedZoneId, client: credentials.route53Client });
    case "rfc2136":
      return new Rfc2136Dns({
        server: dns.server,
        port: dns.port,
        zone: dns.zone,
        keyName: dns.keyName,
        algorithm: dns.algorithm,
        secret: credentials.tsigSecret ?? tsigSecret(credentials.stack ?? inventory.cluster, env),
        names,
      });
    default: {
      const never: never = dns;
      throw new Error(`unknown DNS target ${JSON.stringify(never)}`);
    }
  }
}
