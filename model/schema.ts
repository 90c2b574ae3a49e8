import * as net from "node:net";
import { z } from "zod";
import { parseCidr } from "./cidr";
import { healthSchema } from "./health";
/** The Pulumi project name: config keys are `django-ha:<key>`. */
export const PROJECT = "django-ha";

export const PROVIDERS = ["digitalocean", "aws", "hosts"] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** What happens to writes while the synchronous standby is away. See README "Synchronous replication". */
export const SYNC_POLICIES = ["strict", "degrade-to-async"] as const;
export type SyncPolicy = (typeof SYNC_POLICIES)[number];

/** How the CA validates control of the names: a token on the children (HTTP-01) or a TXT record (DNS-01). */
export const ACME_CHALLENGES = ["http-01", "dns-01"] as const;
export type AcmeChallenge = (typeof ACME_CHALLENGES)[number];
/** The renewal agent's defaults: check every 5 min; after a failure wait 5 min, doubling up to 6 h. */
export const CERTIFICATE_DEFAULTS = {
  challenge: "http-01",
  checkEverySeconds: 300,
  backoff: { baseSeconds: 300, capSeconds: 21600 },
} as const;

export const ACME_DIRECTORIES: Record<string, string> = {
  letsencrypt: "https://acme-v02.api.letsencrypt.org/directory",
  "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
};

/** Per-provider defaults, applied where the spec is built — never by mutating the caller's config. */
export const DEFAULT_SIZES: Record<Exclude<ProviderName, "hosts">, Sizes> = {
  digitalocean: { child: "s-1vcpu-2gb", db: "s-2vcpu-4gb", worker: "s-2vcpu-4gb" },
  aws: { child: "t3.small", db: "t3.medium", worker: "t3.medium" },
};
export const DEFAULT_SSH_USER: Record<ProviderName, string> = { digitalocean: "root", aws: "admin", hosts: "root" };

/** Machine sizes by kind. One `db` size for both database machines: either may become the primary. */
export interface Sizes {
  child: string;
  db: string;
  worker: string;
}

/** The keys of django-ha:sizes. */
export const SIZE_KEYS = ["child", "db", "worker"] as const;

/** How many database machines a cluster has: the primary and its synchronous standby. */
export const DATABASE_MACHINES = 2;

export const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const domainName = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const sshPublicKey = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/;

/** A CIDR, parsed canonically (model/cidr.ts); the message is the parser's fix. */
const cidrString = z.string().superRefine((value, ctx) => {
  const parsed = parseCidr(value);
  if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.fix });
});

const hostEntry = z
  .object({
    /** Address the operator's SSH and the public reach the machine on. */
    address: z.string().refine((v) => net.isIP(v) !== 0, "must be an IPv4 or IPv6 address, e.g. 203.0.113.10"),
    /** Address on the private network the cluster members talk over. Defaults to `address`. */
    privateAddress: z
      .string()
      .refine((v) => net.isIP(v) !== 0, "must be an IPv4 or IPv6 address, e.g. 10.0.0.10")
      .optional(),
    /** Failure domain (rack, site, AZ). Defaults to "default". */
    zone: z.string().min(1).optional(),
    /** Node name. Defaults to `<clusterName>-<role>[-<n>]`. */
    name: z.string().regex(dnsLabel, "must be a DNS label (a-z, 0-9, '-')").optional(),
    /**
     * database machines only: stable paths of the block devices that hold the data, e.g.
     * `{ db: /dev/disk/by-id/…, share: /dev/disk/by-id/… }`. Defaults to none: the data stays on the root disk.
     */
    dataDevices: z.object({ db: z.string(), share: z.string() }).strict().optional(),
  })
  .strict();
export type HostEntry = z.infer<typeof hostEntry>;

/** Schema of every `django-ha:*` key a stack may set (secrets excluded: those are read with requireSecret). */
export const stackConfigSchema = z
  .object({
    provider: z.enum(PROVIDERS, { error: `must be one of ${PROVIDERS.join(", ")}` }),
    clusterName: z.string().regex(dnsLabel, "must be a DNS label: lower-case letters, digits and '-', e.g. shop").default("django"),
    region: z.string().min(1).optional(),
    zones: z.array(z.string().min(1)).min(1).optional(),
    domain: z.string().regex(domainName, "must be a lower-case domain name you control, e.g. example.com"),
    recordName: z.string().default("www"),
    ttl: z
      .number()
      .int("must be a whole number of seconds")
      .max(3600, "must be at most 3600 s; round-robin failover needs a low TTL such as 30")
      .default(30),
    childCount: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1: the children serve all web traffic")
      .max(500, "must be at most 500")
      .optional(),
    sizes: z.object({ child: z.string(), db: z.string(), worker: z.string() }).partial().strict().default({}),
    volumes: z
      .object({
        dbGb: z.number().int().min(1, "must be at least 1 GB").max(16384).default(20),
        shareGb: z.number().int().min(1, "must be at least 1 GB").max(16384).default(50),
      })
      .strict()
      .default({ dbGb: 20, shareGb: 50 }),
    adminCidrs: z.array(cidrString).default([]),
    allowSshFromAnywhere: z.boolean().default(false),
    sshPublicKeys: z
      .array(z.string().regex(sshPublicKey, "must be an OpenSSH public key line, e.g. 'ssh-ed25519 AAAA… you@laptop'"))
      .default([]),
    sshUser: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]*$/, "must be a Unix user name")
      .optional(),
    sshPort: z.number().int().min(1).max(65535).default(22),
    /** Checked as Let's Encrypt checks it (model/email.ts), once the directory is known. */
    acmeEmail: z.string().min(1, "must be an e-mail address Let's Encrypt can write to, e.g. ops@your-company.com"),
    acmeDirectory: z.string().default("letsencrypt"),
    /** The certificate the cluster's renewal agent keeps (docs/certificates.md). Cross-key rules in certificateIssues. */
    certificate: z
      .object({
        challenge: z
          .enum(ACME_CHALLENGES, { error: `must be one of ${ACME_CHALLENGES.join(", ")}` })
          .default(CERTIFICATE_DEFAULTS.challenge),
        /** Names besides the record's own (the apex, www…); the record name is always the first. */
        names: z.array(z.string()).default([]),
        profile: z.string().optional(),
        checkEverySeconds: z
          .number()
          .int("must be a whole number of seconds")
          .min(5, "must be at least 5 s (the agent checks the certificate and the renewal window; every 300 s is plenty)")
          .default(CERTIFICATE_DEFAULTS.checkEverySeconds),
        backoff: z
          .object({
            baseSeconds: z
              .number()
              .int("must be a whole number of seconds")
              .min(1, "must be at least 1 s; Let's Encrypt allows 5 failed validations per name per hour, so keep 300 in production")
              .default(CERTIFICATE_DEFAULTS.backoff.baseSeconds),
            capSeconds: z
              .number()
              .int("must be a whole number of seconds")
              .min(1, "must be at least 1 s")
              .default(CERTIFICATE_DEFAULTS.backoff.capSeconds),
          })
          .strict()
          .default({ ...CERTIFICATE_DEFAULTS.backoff }),
        /** hosts + dns-01: a TSIG key allowed to change only `_acme-challenge` TXT records. Defaults to dns.tsigKeyName. */
        dnsKeyName: z.string().min(1, "must be the name of a TSIG key on the DNS server, e.g. shop-acme").optional(),
      })
      .strict()
      .default({
        challenge: CERTIFICATE_DEFAULTS.challenge,
        names: [],
        checkEverySeconds: CERTIFICATE_DEFAULTS.checkEverySeconds,
        backoff: { ...CERTIFICATE_DEFAULTS.backoff },
      }),
    /** The health agent that takes a dead child out of the record (model/health.ts, docs/health-agent.md). */
    health: healthSchema,
    syncReplication: z.enum(SYNC_POLICIES, { error: `must be one of ${SYNC_POLICIES.join(", ")}` }).default("strict"),
    /** Checked per provider (model/names.ts): AWS tag rules on aws, DigitalOcean tag rules on digitalocean. */
    tags: z.record(z.string().min(1, "a tag key cannot be empty"), z.string()).default({}),
    hosts: z
      .object({
        /** The two database machines, in order (db-1, db-2). Which one is the primary is django-ha:primary. */
        databases: z
          .array(hostEntry)
          .length(
            DATABASE_MACHINES,
            "must list exactly two database machines: the primary and its synchronous standby, e.g. [{ address: 10.0.0.11 }, { address: 10.0.0.12 }]",
          ),
        children: z.array(hostEntry).min(1, "needs at least one child host"),
        worker: hostEntry,
      })
      .strict()
      .optional(),
    /**
     * The database machine that is the primary now (a node name). Defaults to the first database machine.
     * The failover runbook changes it, so `pulumi up` and the bootstrap converge on the roles after a failover.
     */
    primary: z.string().min(1).optional(),
    dns: z
      .object({
        /** hosts: address of the authoritative server that accepts RFC 2136 updates. */
        server: z.string().refine((v) => net.isIP(v) !== 0, "must be the DNS server's IP address"),
        port: z.number().int().min(1).max(65535).default(53),
        /** The zone to update. Defaults to `domain`. */
        zone: z.string().regex(domainName).optional(),
        tsigKeyName: z.string().min(1),
        tsigAlgorithm: z.enum(["hmac-sha256", "hmac-sha512"]).default("hmac-sha256"),
      })
      .strict()
      .optional(),
    /** Your Django project (model/app.ts, docs/your-project.md). Defaults to the sample app ./app. Checked in appSpecOf. */
    app: z.unknown().optional(),
    /** aws: Route 53 hosted zone id. Defaults to the public zone named `domain`. */
    hostedZoneId: z
      .string()
      .regex(/^Z[A-Z0-9]{1,32}$/, "must be a Route 53 hosted zone id such as Z123EXAMPLE")
      .optional(),
  })
  .strict();
export type StackConfig = z.infer<typeof stackConfigSchema>;
