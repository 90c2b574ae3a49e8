/**
 * The certificate inputs of a bootstrap outside Pulumi (`npm run bootstrap`, the lab): the agent program
 * (bundled from this repository, since the nodes have no npm) and the DNS-01 credential, from the
 * environment or the lab's key files. The Pulumi program passes its secret config instead (index.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { AcmeContext } from "../../roles/types";
import type { CertificateSpec, Inventory } from "../../model";
import { UserError } from "../../model/errors";
import { bundleAgent } from "../acme/bundle";
import { TSIG_SECRET_ENV } from "../targets/credentials";

/** hosts + dns-01 with certificate.dnsKeyName: that key's base64 secret. */
export const ACME_TSIG_SECRET_ENV = "DJANGO_HA_ACME_TSIG_SECRET";
/** digitalocean + dns-01: a DigitalOcean token scoped to domain read/write. */
export const ACME_DNS_TOKEN_ENV = "DJANGO_HA_ACME_DNS_TOKEN";

export interface AcmeSecretSource {
  stack: string;
  inventory: Pick<Inventory, "dns">;
  certificate: CertificateSpec;
  /** The lab's state directory when the machines are the lab's: its key files hold the TSIG secrets. */
  labRoot?: string;
  env?: NodeJS.ProcessEnv;
}

/** The secret of a key file in BIND's syntax (`key "name" { algorithm …; secret "…"; };`), as the lab writes `acme-tsig.key`. */
export function bindKeySecret(text: string, file: string): string {
  const m = /secret\s+"([A-Za-z0-9+/=]+)"\s*;/.exec(text);
  if (!m)
    throw new UserError(
      `${file} is not a BIND key file (key "<name>" { algorithm …; secret "…"; };): bring the lab up again (npm run lab -- up)`,
    );
  return m[1];
}

/**
 * A TSIG secret the lab made: a narrow key's BIND key file (`narrowKeyFile`, e.g. acme-tsig.key), else the record's
 * key (dns/tsig.json). Shared by the certificate and health agents' credentials.
 */
export function labTsigSecret(labRoot: string, narrowKeyFile: string | undefined): string {
  const file = narrowKeyFile ? path.join(labRoot, narrowKeyFile) : path.join(labRoot, "dns", "tsig.json");
  if (!fs.existsSync(file)) throw new UserError(`The lab's TSIG key ${file} does not exist: start the lab with \`npm run lab -- up\``);
  const text = fs.readFileSync(file, "utf8");
  return narrowKeyFile ? bindKeySecret(text, file) : (JSON.parse(text) as { secret: string }).secret;
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
      if (o.labRoot) return labTsigSecret(o.labRoot, narrow ? "acme-tsig.key" : undefined);
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
