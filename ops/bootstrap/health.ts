/**
 * The health agent's inputs of a bootstrap outside Pulumi (`npm run bootstrap`, the lab): the agent program
 * (bundled from this repository, since the nodes have no npm) and its DNS credential, from the environment or
 * from the machine source that made the DNS server's keys (the lab). The Pulumi program passes its secret config instead (index.ts).
 */
import type { HealthContext } from "../../roles/health";
import type { HealthSpec, Inventory } from "../../model";
import { UserError } from "../../model/errors";
import { bundleHealthAgent } from "../health/bundle";
import { TSIG_SECRET_ENV } from "../targets/credentials";
import { fromEnv } from "./acme";
import type { SourceCapabilities } from "./source";

/** hosts with health.dnsKeyName: that key's base64 secret. */
export const HEALTH_TSIG_SECRET_ENV = "DJANGO_HA_HEALTH_TSIG_SECRET";
/** digitalocean: a DigitalOcean token scoped to domain read/update. */
export const HEALTH_DNS_TOKEN_ENV = "DJANGO_HA_HEALTH_DNS_TOKEN";

export interface HealthSecretSource {
  stack: string;
  inventory: Pick<Inventory, "dns">;
  health: HealthSpec;
  /** What the machine source holds itself: the TSIG secrets when it made the DNS server's keys (the lab). Defaults to none. */
  capabilities?: Pick<SourceCapabilities, "tsigSecret">;
  env?: NodeJS.ProcessEnv;
}

/** The agent's DNS credential for health.env, or undefined where the agent does not run (off, Route 53). */
export function healthDnsSecret(o: HealthSecretSource): string | undefined {
  if (!o.health.enabled) return undefined;
  const env = o.env ?? process.env;
  const dns = o.inventory.dns;
  switch (dns.kind) {
    case "route53":
      return undefined;
    case "digitalocean":
      return fromEnv(
        env,
        HEALTH_DNS_TOKEN_ENV,
        `the health agent on DigitalOcean needs a token scoped to domain read/update: export ${HEALTH_DNS_TOKEN_ENV}="$(pulumi config get --stack ${o.stack} django-ha:healthDnsToken)"`,
      );
    case "rfc2136": {
      const narrow = o.health.dnsKeyName !== undefined;
      const held = o.capabilities?.tsigSecret;
      if (held) return held(o.health.dnsKeyName ?? dns.keyName);
      return narrow
        ? fromEnv(
            env,
            HEALTH_TSIG_SECRET_ENV,
            `the health agent signs with the TSIG key ${o.health.dnsKeyName}: export ${HEALTH_TSIG_SECRET_ENV}="$(pulumi config get --stack ${o.stack} django-ha:healthTsigSecret)"`,
          )
        : fromEnv(
            env,
            TSIG_SECRET_ENV,
            `the health agent signs with the record's TSIG key ${dns.keyName} (a narrower key, health.dnsKeyName, is better): export ${TSIG_SECRET_ENV}="$(pulumi config get --stack ${o.stack} django-ha:dnsTsigSecret)"`,
          );
    }
    default: {
      const never: never = dns;
      throw new Error(`unknown DNS target ${JSON.stringify(never)}`);
    }
  }
}

/** The health part of a role context for a run outside Pulumi; `dryRun` puts a stand-in for a secret it cannot read. */
export async function healthContextFor(o: HealthSecretSource, dryRun = false): Promise<HealthContext> {
  let dnsSecret: string | undefined;
  try {
    dnsSecret = healthDnsSecret(o);
  } catch (err) {
    if (!(dryRun && err instanceof UserError)) throw err;
    dnsSecret = "notyetset";
  }
  const agentSource = o.health.enabled && o.inventory.dns.kind !== "route53" ? await bundleHealthAgent() : "";
  return { spec: o.health, agentSource, ...(dnsSecret !== undefined ? { dnsSecret } : {}) };
}
