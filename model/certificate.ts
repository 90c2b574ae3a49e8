/**
 * The certificate section of the stack config (django-ha:certificate): the cross-key rules zod cannot say
 * alone (names against the record and the zone, wildcards against the challenge, the profile against the
 * directory) and the secrets a DNS-01 challenge needs. Pure.
 */
import type { ConfigIssue } from "./errors";
import { LETS_ENCRYPT_HOSTS } from "./email";
import type { StackConfig } from "./schema";
import type { CertificateSpec } from "./spec";
import { PROJECT } from "./schema";

/** Let's Encrypt's certificate profiles (https://letsencrypt.org/docs/profiles/). A private directory may offer others. */
export const LETS_ENCRYPT_PROFILES = ["classic", "tlsserver", "shortlived"] as const;
/** Let's Encrypt's limit of names on one certificate. */
export const MAX_CERTIFICATE_NAMES = 100;

type Add = (path: PropertyKey[], fix: string) => void;

const certName = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const profileName = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Longest a certificate check interval may be: a 6-day certificate is renewed with 2 days left. */
export const MAX_CHECK_EVERY_SECONDS = 86400;

/** Whether the directory is one of Let's Encrypt's (production or staging). */
function isLetsEncrypt(directoryUrl: string | undefined): boolean {
  if (!directoryUrl) return true;
  try {
    return LETS_ENCRYPT_HOSTS.includes(new URL(directoryUrl).hostname);
  } catch {
    return false;
  }
}

/** The DNS zone the agent writes `_acme-challenge` TXT records into: the RFC 2136 zone on hosts, else the domain. */
function challengeZone(c: StackConfig): string {
  return c.provider === "hosts" ? (c.dns?.zone ?? c.domain) : c.domain;
}

const inZone = (name: string, zone: string) => {
  const bare = name.replace(/^\*\./, "");
  return bare === zone || bare.endsWith(`.${zone}`);
};

function nameIssues(c: StackConfig, recordFqdn: string, add: Add): string[] {
  const { challenge, names } = c.certificate;
  const zone = challengeZone(c);
  const seen = new Map<string, number>();
  const kept: string[] = [];
  names.forEach((name, i) => {
    const at = ["certificate", "names", i];
    if (!certName.test(name)) {
      add(
        at,
        `must be a lower-case domain name such as ${c.domain} or shop.${c.domain} (a wildcard such as *.${c.domain} with challenge dns-01); no trailing dot, no IP address`,
      );
    } else if (name === recordFqdn) {
      add(at, `is the record's own name (django-ha:recordName), which is always the first name on the certificate; remove it`);
    } else if (seen.has(name)) {
      add(
        at,
        `is listed twice (also django-ha:certificate.names[${seen.get(name)}]); list each name once (Let's Encrypt refuses duplicate names)`,
      );
    } else if (name.startsWith("*.") && challenge !== "dns-01") {
      add(
        at,
        `is a wildcard: only DNS-01 can prove control of every name under it; set django-ha:certificate.challenge to dns-01, or list the names themselves`,
      );
    } else if (challenge === "dns-01" && !inZone(name, zone)) {
      add(
        at,
        `is outside the zone ${zone}, the only zone the renewal agent can write _acme-challenge TXT records into; remove it, or use challenge http-01 and point the name at the children`,
      );
    } else {
      kept.push(name);
    }
    if (!seen.has(name)) seen.set(name, i);
  });
  if (names.length + 1 > MAX_CERTIFICATE_NAMES)
    add(
      ["certificate", "names"],
      `lists ${names.length} names; with the record's own name that is more than Let's Encrypt's ${MAX_CERTIFICATE_NAMES} names per certificate; list at most ${MAX_CERTIFICATE_NAMES - 1}`,
    );
  return kept;
}

/** The validated certificate section, with every problem reported through `add` (key, fix). */
export function certificateSpec(c: StackConfig, recordFqdn: string, directoryUrl: string | undefined, add: Add): CertificateSpec {
  const cert = c.certificate;
  const names = [recordFqdn, ...nameIssues(c, recordFqdn, add)];
  if (cert.profile !== undefined) {
    if (isLetsEncrypt(directoryUrl) && !(LETS_ENCRYPT_PROFILES as readonly string[]).includes(cert.profile)) {
      add(
        ["certificate", "profile"],
        `is not a Let's Encrypt profile; use one of ${LETS_ENCRYPT_PROFILES.join(", ")} (shortlived: about 6 days), or remove it for the CA's default (classic)`,
      );
    } else if (!profileName.test(cert.profile)) {
      add(["certificate", "profile"], `must be a profile name the ACME directory lists under meta.profiles, e.g. classic or shortlived`);
    }
  }
  if (cert.checkEverySeconds > MAX_CHECK_EVERY_SECONDS)
    add(
      ["certificate", "checkEverySeconds"],
      `must be at most ${MAX_CHECK_EVERY_SECONDS} s (a day): a 6-day certificate is renewed with 2 days left; 300 is the default`,
    );
  if (cert.backoff.capSeconds < cert.backoff.baseSeconds) {
    add(
      ["certificate", "backoff", "capSeconds"],
      `is below backoff.baseSeconds (${cert.backoff.baseSeconds}): the wait after a failure starts at baseSeconds and doubles up to capSeconds; set capSeconds to at least ${cert.backoff.baseSeconds} (default 21600)`,
    );
  }
  if (cert.dnsKeyName !== undefined && c.provider !== "hosts") {
    add(
      ["certificate", "dnsKeyName"],
      `is only for provider hosts (RFC 2136 with TSIG); ${c.provider === "aws" ? "on aws the database machines' instance role may change only _acme-challenge TXT records" : "on digitalocean set the secret django-ha:acmeDnsToken instead"}; remove it`,
    );
  }
  return {
    challenge: cert.challenge,
    names,
    ...(cert.profile !== undefined ? { profile: cert.profile } : {}),
    checkEverySeconds: cert.checkEverySeconds,
    backoff: { baseSeconds: cert.backoff.baseSeconds, capSeconds: cert.backoff.capSeconds },
    ...(cert.dnsKeyName !== undefined ? { dnsKeyName: cert.dnsKeyName } : {}),
  };
}

/** The secret keys a DNS-01 challenge reads (set with `pulumi config set --secret`). */
export const ACME_SECRET_KEYS = ["acmeTsigSecret", "acmeDnsToken"] as const;

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The DNS-01 credentials a running Pulumi program needs and does not have (`all`: full keys as the program
 * gets them). DigitalOcean needs its own token (the record's token is the provider's, far broader); hosts with
 * a narrower key (certificate.dnsKeyName) needs that key's secret. Pure.
 */
export function certificateSecretIssues(all: Record<string, unknown>, stack: string): ConfigIssue[] {
  const get = (k: string) => all[`${PROJECT}:${k}`];
  const cert = isMap(get("certificate")) ? (get("certificate") as Record<string, unknown>) : {};
  if (cert.challenge !== "dns-01") return [];
  const missing = (k: string) => get(k) === undefined || get(k) === "";
  const issues: ConfigIssue[] = [];
  if (get("provider") === "digitalocean" && missing("acmeDnsToken")) {
    issues.push({
      key: `${PROJECT}:acmeDnsToken`,
      value: "(not set)",
      fix: `is required for challenge dns-01 on digitalocean: a DigitalOcean API token scoped to domain read/write only (Custom Scopes: domain), which the renewal agent uses to write _acme-challenge TXT records; set it with \`pulumi config set --secret --stack ${stack} ${PROJECT}:acmeDnsToken\``,
    });
  }
  if (get("provider") === "hosts" && typeof cert.dnsKeyName === "string" && missing("acmeTsigSecret")) {
    issues.push({
      key: `${PROJECT}:acmeTsigSecret`,
      value: "(not set)",
      fix: `is required with django-ha:certificate.dnsKeyName (${JSON.stringify(cert.dnsKeyName)}): the base64 secret of that TSIG key; set it with \`pulumi config set --secret --stack ${stack} ${PROJECT}:acmeTsigSecret\``,
    });
  }
  return issues;
}
