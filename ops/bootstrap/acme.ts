/**
 * The certificate inputs of a bootstrap outside Pulumi (`npm run bootstrap`, the lab): the agent program
 * (bundled from this repository, since the nodes have no npm) and the DNS-01 credential, from the
 * environment or from the machine source that made the DNS server's keys (the lab). The Pulumi program passes its
 * secret config instead (index.ts).
 */
import type { AcmeContext } from "../../roles/types";
import type { CertificateSpec, Inventory } from "../../model";
import { UserError } from "../../model/errors";
import { bundleAgent } from "../acme/bundle";
import { TSIG_SECRET_ENV } from "../targets/credentials";
import type { SourceCapabilities } from "./source";

/** hosts + dns-01 with certificate.dnsKeyName: that key's base64 secret. */
export const ACME_TSIG_SECRET_ENV = "DJANGO_HA_ACME_TSIG_SECRET";
/** digitalocean + dns-01: a DigitalOcean token scoped to domain read/write. */
export const ACME_DNS_TOKEN_ENV = "DJANGO_HA_ACME_DNS_TOKEN";

export interface AcmeSecretSource {
  stack: string;
  inventory: Pick<Inventory, "dns">;
  certificate: CertificateSpec;
  /** What the machine source holds itself: the TSIG secrets when it made the DNS server's keys (the lab). Defaults to none. */
  capabilities?: Pick<SourceCapabilities, "tsigSecret">;
  env?: NodeJS.ProcessEnv;
}

/** A credential from the environment, or a UserError that says how to set it. */
export function fromEnv(env: NodeJS.ProcessEnv, name: string, why: string): string {
  const v = env[name];
  if (!v) throw new UserError(`${name} is not set: ${why}`);
  return v;
}

/** The DNS-01 credential for the agent's acme.env, or undefined when none is needed (http-01, Route 53's instance role). */
export function acmeDnsSecret(o: AcmeSecretSource): string | undefined {
  if (o.certificate.challenge !== "dns-01") return undefined;
  const env = o.env ?? process.env;
  const dns = o.inventory.dns;
  switch (dns.kind) {
    case "route53":
      return undefined;
    case "digitalocean":
      return fromEnv(
        env,
        ACME_DNS_TOKEN_ENV,
        `challenge dns-01 on DigitalOcean needs a token scoped to domain read/write: export ${ACME_DNS_TOKEN_ENV}="$(pulumi config get --stack ${o.stack} django-ha:acmeDnsToken)"`,
      );
    case "rfc2136": {
      const narrow = o.certificate.dnsKeyName !== undefined;
      const held = o.capabilities?.tsigSecret;
      if (held) return held(o.certificate.dnsKeyName ?? dns.keyName);
      return narrow
        ? fromEnv(
            env,
            ACME_TSIG_SECRET_ENV,
            `challenge dns-01 signs with the TSIG key ${o.certificate.dnsKeyName}: export ${ACME_TSIG_SECRET_ENV}="$(pulumi config get --stack ${o.stack} django-ha:acmeTsigSecret)"`,
          )
        : fromEnv(
            env,
            TSIG_SECRET_ENV,
            `challenge dns-01 signs with the record's TSIG key ${dns.keyName} (a narrower key, certificate.dnsKeyName, is better): export ${TSIG_SECRET_ENV}="$(pulumi config get --stack ${o.stack} django-ha:dnsTsigSecret)"`,
          );
    }
    default: {
      const never: never = dns;
      throw new Error(`unknown DNS target ${JSON.stringify(never)}`);
    }
  }
}

/** The certificate part of a role context for a run outside Pulumi. */
export async function acmeContextFor(o: AcmeSecretSource): Promise<AcmeContext> {
  const dnsSecret = acmeDnsSecret(o);
  return { certificate: o.certificate, agentSource: await bundleAgent(), ...(dnsSecret !== undefined ? { dnsSecret } : {}) };
}
