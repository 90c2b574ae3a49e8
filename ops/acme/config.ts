/**
 * The renewal agent's config, /etc/django-ha/acme.json (written by the bootstrap from the spec), and its
 * secrets, /etc/django-ha/acme.env. Parsed with zod; every problem names the key, the value and the fix,
 * and all of them are reported at once, before the agent touches anything.
 */
import { isIPv4 } from "node:net";
import { z } from "zod";
import { acmeEmailProblems } from "../../model/email";
import { ConfigError, type ConfigIssue } from "../../model/errors";
import { maxAttemptsInAnyHour } from "./backoff";

export const CONFIG_PATH = "/etc/django-ha/acme.json";
export const ENV_PATH = "/etc/django-ha/acme.env";

const FQDN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const fqdn = z.string().regex(FQDN, "a lower-case DNS name such as www.example.com");
const absolutePath = z.string().regex(/^\/[^\0]*$/, "an absolute path such as /srv/share/tls");
const seconds = (min: number) => z.number().int(`a whole number of seconds`).min(min, `at least ${min} seconds`);

const rfc2136 = z.strictObject({
  provider: z.literal("rfc2136"),
  server: z.string().refine(isIPv4, "the DNS server's IPv4 address"),
  port: z.number().int().min(1).max(65535).default(53),
  zone: fqdn,
  keyName: z.string().regex(/^[A-Za-z0-9._-]+$/, "the TSIG key's name"),
  algorithm: z.string().regex(/^hmac-(md5|sha1|sha224|sha256|sha384|sha512)$/, "a TSIG algorithm such as hmac-sha256"),
});
const digitalocean = z.strictObject({ provider: z.literal("digitalocean"), domain: fqdn });
const route53 = z.strictObject({
  provider: z.literal("route53"),
  hostedZoneId: z.string().regex(/^(\/?hostedzone\/)?[A-Z0-9]{1,32}$/, "a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ"),
});

export const agentConfigSchema = z.strictObject({
  directoryUrl: z.url({
    protocol: /^https$/,
    error: "the CA's https directory URL, e.g. https://acme-staging-v02.api.letsencrypt.org/directory",
  }),
  email: z.string(),
  certName: fqdn,
  names: z.array(fqdn).min(1, "at least the record name"),
  challenge: z.enum(["http-01", "dns-01"]),
  profile: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/, "a profile the CA lists in its directory, e.g. classic, tlsserver or shortlived")
    .optional(),
  webroot: absolutePath,
  store: absolutePath,
  children: z.array(z.strictObject({ name: z.string().min(1), address: z.string().refine(isIPv4, "the child's private IPv4 address") })),
  dns: z.discriminatedUnion("provider", [rfc2136, digitalocean, route53]).optional(),
  checkEverySeconds: seconds(1),
  backoff: z.strictObject({ baseSeconds: seconds(1), capSeconds: seconds(1) }),
  appUser: z.string().regex(/^(\d+:\d+|[a-z_][a-z0-9_-]*)$/, `"uid:gid" such as "950:950", or a user name such as "django"`),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type DnsConfig = NonNullable<AgentConfig["dns"]>;

const show = (v: unknown): string => (v === undefined ? "(not set)" : JSON.stringify(v));

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const p of path) v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

function keyOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((k, p) => (typeof p === "number" ? `${k}[${p}]` : k ? `${k}.${String(p)}` : String(p)), "") || "(the file)";
}

/** Problems only visible across fields (zod checked each field alone). */
function crossFieldIssues(c: AgentConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (key: string, value: unknown, fix: string) => issues.push({ key, value: show(value), fix });
  for (const p of acmeEmailProblems(c.email, c.directoryUrl)) add("email", c.email, `the ACME contact ${p}`);
  if (!c.names.includes(c.certName))
    add("certName", c.certName, `must be one of names (${c.names.join(", ")}): it is the record name the certificate is for`);
  const dup = c.names.find((n, i) => c.names.indexOf(n) !== i);
  if (dup) add("names", c.names, `lists ${dup} twice; give each name once`);
  if (c.challenge === "http-01") {
    const wildcard = c.names.find((n) => n.startsWith("*."));
    if (wildcard) add("challenge", c.challenge, `${wildcard} is a wildcard, which only dns-01 can prove; set challenge to "dns-01"`);
    if (c.children.length === 0)
      add(
        "children",
        c.children,
        "http-01 is checked on every child before the CA is told: list the children with their private addresses",
      );
  }
  if (c.challenge === "dns-01" && !c.dns)
    add("dns", undefined, `dns-01 needs the DNS provider: { "provider": "rfc2136" | "digitalocean" | "route53", ... }`);
  if (c.backoff.capSeconds < c.backoff.baseSeconds)
    add("backoff.capSeconds", c.backoff.capSeconds, `must be at least backoff.baseSeconds (${c.backoff.baseSeconds})`);
  else if (isLetsEncrypt(c.directoryUrl) && maxAttemptsInAnyHour(c.backoff) > 4) {
    add(
      "backoff.baseSeconds",
      c.backoff.baseSeconds,
      `allows ${maxAttemptsInAnyHour(c.backoff)} failed attempts in an hour; Let's Encrypt allows 5 failed validations per name per hour: use 300 or more`,
    );
  }
  return issues;
}

export function isLetsEncrypt(directoryUrl: string): boolean {
  return /(^|\.)api\.letsencrypt\.org$/.test(new URL(directoryUrl).hostname);
}

/** The agent config from the file's text; a ConfigError listing every problem otherwise. */
export function parseAgentConfig(text: string, source = CONFIG_PATH): AgentConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(
      [
        {
          key: "(the file)",
          value: show(text.slice(0, 40)),
          fix: `is not JSON (${(e as Error).message}); the bootstrap writes it, re-run it`,
        },
      ],
      source,
    );
  }
  const parsed = agentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.flatMap((i) => schemaIssues(raw, i)),
      source,
    );
  }
  const issues = crossFieldIssues(parsed.data);
  if (issues.length > 0) throw new ConfigError(issues, source);
  return parsed.data;
}

function schemaIssues(raw: unknown, i: z.core.$ZodIssue): ConfigIssue[] {
  if (i.code === "unrecognized_keys") {
    return i.keys.map((k) => ({
      key: keyOf([...i.path, k]),
      value: show(valueAt(raw, [...i.path, k])),
      fix: "unknown key: remove it (docs/certificates.md lists the keys)",
    }));
  }
  const value = valueAt(raw, i.path);
  return [{ key: keyOf(i.path), value: show(value), fix: value === undefined ? `is required: ${i.message}` : `must be ${i.message}` }];
}

/** The secrets from /etc/django-ha/acme.env (KEY=value lines), as the service's EnvironmentFile sees them. */
export interface AgentSecrets {
  passphrase: string;
  tsigSecret?: string;
  digitalOceanToken?: string;
}

/** Secrets from the environment; a ConfigError naming the missing variable and where it comes from. */
export function agentSecrets(config: AgentConfig, env: NodeJS.ProcessEnv): AgentSecrets {
  const issues: ConfigIssue[] = [];
  const need = (name: string, why: string) => {
    const v = env[name];
    if (!v)
      issues.push({
        key: name,
        value: "(not set)",
        fix: `${why}; it belongs in ${ENV_PATH} (the bootstrap writes it), run the agent through its service or export it`,
      });
    return v;
  };
  const passphrase = need("DJANGO_HA_TLS_PASSPHRASE", "encrypts the keys on the share") ?? "";
  const tsigSecret = config.dns?.provider === "rfc2136" ? need("DJANGO_HA_DNS_TSIG_SECRET", "signs the TXT updates (TSIG)") : undefined;
  const digitalOceanToken =
    config.dns?.provider === "digitalocean" ? need("DIGITALOCEAN_TOKEN", "sets the TXT records through the DigitalOcean API") : undefined;
  if (issues.length > 0) throw new ConfigError(issues, "the agent's environment");
  return { passphrase, tsigSecret, digitalOceanToken };
}
