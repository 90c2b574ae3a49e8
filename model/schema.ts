import * as net from "node:net";
import { z } from "zod";
import catalog from "./catalog.json";
import { ANYWHERE_THRESHOLD_TEXT, broaderThanThreshold, Cidr, coverage, describeCount, parseAddress, parseCidr } from "./cidr";
import { AppSpec, appSpecOf } from "./app";
import { certificateSpec } from "./certificate";
import { healthSchema, healthSpec, type HealthSpec } from "./health";
import { acmeEmailProblems } from "./email";
import { ConfigError, ConfigIssue } from "./errors";
import { providerNameIssues } from "./names";
import { clusterServiceOn } from "./ports";
import { DataDevices, dataDeviceProblem, DATA_PURPOSES } from "./volumes";

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

const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
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

export interface NodeHost {
  address: string;
  privateAddress: string;
  zone: string;
  name: string;
  /** database machines: the data volumes' stable device paths; absent = data on the root disk. */
  dataDevices?: DataDevices;
}

/** hosts target: the existing machines (`databases`: db-1, db-2 in config order). */
export interface HostsMachinesSpec {
  databases: [NodeHost, NodeHost];
  children: NodeHost[];
  worker: NodeHost;
}

/** hosts target: the RFC 2136 server that holds the record's zone. */
export interface Rfc2136Spec {
  server: string;
  port: number;
  zone: string;
  tsigKeyName: string;
  tsigAlgorithm: "hmac-sha256" | "hmac-sha512";
}

/** What every target's spec holds. */
interface ClusterSpecBase {
  clusterName: string;
  /** The Pulumi stack. Provider-side names carry it (model/names.ts), so two stacks of one cluster never share them. */
  stack: string;
  region: string;
  /** Failure domains in use, in order: db-1 in zones[0], db-2 in zones[1] when there are several. */
  zones: string[];
  domain: string;
  /** Record label relative to `domain` ("@" for the apex). */
  recordName: string;
  /** Fully qualified record name, e.g. www.example.com. */
  recordFqdn: string;
  ttl: number;
  childCount: number;
  sizes: Sizes;
  volumes: { dbGb: number; shareGb: number };
  adminCidrs: string[];
  allowSshFromAnywhere: boolean;
  sshPublicKeys: string[];
  ssh: { user: string; port: number };
  acme: { email: string; directoryUrl: string };
  /** The certificate the renewal agent keeps (django-ha:certificate), validated and defaulted. */
  certificate: CertificateSpec;
  /** The health agent on the database machines (django-ha:health), validated and defaulted. */
  health: HealthSpec;
  syncReplication: SyncPolicy;
  tags: Record<string, string>;
  /**
   * The database machine that is the PostgreSQL primary / NFS server / Redis master now (django-ha:primary;
   * defaults to the first). The other one is the synchronous standby.
   */
  primary: string;
  /** The Django project the cluster runs (django-ha:app), validated and defaulted (the sample app by default). */
  app: AppSpec;
}

/** DigitalOcean: droplets, volumes, cloud firewalls and records the stack creates. */
export interface DigitalOceanSpec extends ClusterSpecBase {
  provider: "digitalocean";
}

/** AWS: EC2 instances, EBS, security groups and a Route 53 multivalue record the stack creates. */
export interface AwsSpec extends ClusterSpecBase {
  provider: "aws";
  /** The Route 53 hosted zone holding the record. Defaults to the public zone named `domain`. */
  hostedZoneId?: string;
}

/** Machines that exist already; the record is kept by RFC 2136 updates. */
export interface HostsSpec extends ClusterSpecBase {
  provider: "hosts";
  hosts: HostsMachinesSpec;
  dns: Rfc2136Spec;
}

/**
 * The validated, defaulted description of one cluster: a union by provider, so provider-only fields exist only
 * on their branch and a `switch (spec.provider)` with a `never` default lists every place a new target touches.
 * Everything downstream reads this, never raw config.
 */
export type ClusterSpec = DigitalOceanSpec | AwsSpec | HostsSpec;

/** The `never` default of a switch over the provider (a spec or a provider name): the compiler flags every switch a new provider misses. */
export function unknownProvider(value: never): never {
  const provider = typeof value === "object" && value !== null ? (value as { provider?: unknown }).provider : value;
  throw new Error(`unknown provider ${String(provider)}`);
}

/** The certificate the cluster's renewal agent orders and renews (ops/acme; docs/certificates.md). */
export interface CertificateSpec {
  challenge: AcmeChallenge;
  /** Every name on the certificate: the record's FQDN first, then the extra names, each once. */
  names: string[];
  /** ACME profile to ask for (Let's Encrypt: classic, tlsserver, shortlived). Defaults to the CA's default. */
  profile?: string;
  checkEverySeconds: number;
  backoff: { baseSeconds: number; capSeconds: number };
  /** hosts + dns-01: the narrower TSIG key for `_acme-challenge` TXT records. Defaults to the record's key. */
  dnsKeyName?: string;
}

/** Name of the n-th (1-based) database machine when the config names none: `<cluster>-db-<n>`. Neutral: either may be the primary. */
export function databaseMachineName(clusterName: string, n: number): string {
  return `${clusterName}-db-${n}`;
}

/** `primary.<cluster>.internal`: the one private name every node uses for the current primary. */
export function primaryHostname(spec: Pick<ClusterSpec, "clusterName">): string {
  return `primary.${spec.clusterName}.internal`;
}

function show(value: unknown): string {
  return value === undefined ? "(not set)" : JSON.stringify(value);
}

function valueAt(raw: Record<string, unknown>, path: PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function keyOf(path: PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  return `${PROJECT}:${head ?? ""}${rest.map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join("")}`;
}

/** Examples for the type messages ("write 30, not \"thirty\""), by key path; numbers default to their schema default. */
const TYPE_EXAMPLES: Record<string, string> = {
  ttl: "30",
  childCount: "3",
  "volumes.dbGb": "20",
  "volumes.shareGb": "50",
  sshPort: "22",
  "dns.port": "53",
  adminCidrs: '["203.0.113.7/32"]',
  sshPublicKeys: '["ssh-ed25519 AAAA… you@laptop"]',
  zones: '["eu-west-1a", "eu-west-1b"]',
  sizes: "{ child: s-1vcpu-2gb }",
  volumes: "{ dbGb: 20, shareGb: 50 }",
  tags: "{ env: production }",
  hosts: "{ databases: [{address: …}, {address: …}], children: [{…}], worker: {…} }",
  "hosts.databases": "[{ address: 10.0.0.11 }, { address: 10.0.0.12 }]",
  certificate: "{ challenge: http-01, names: [example.com] }",
  "certificate.names": "[example.com]",
  "certificate.backoff": "{ baseSeconds: 300, capSeconds: 21600 }",
  "certificate.checkEverySeconds": "300",
  "certificate.backoff.baseSeconds": "300",
  "certificate.backoff.capSeconds": "21600",
  health: "{ intervalSeconds: 2 }",
  "health.intervalSeconds": "2",
  "health.probeTimeoutSeconds": "2",
  "health.failuresToRemove": "3",
  "health.successesToRestore": "2",
  dns: "{ server: 198.51.100.53, tsigKeyName: shop-update }",
};

/** What to write instead of a value of the wrong type: "write 3, not \"three\"" (no quotes around numbers and booleans). */
function typeFix(expected: string, path: PropertyKey[], value: unknown): string {
  const at = path
    .filter((p) => typeof p !== "number")
    .map(String)
    .join(".");
  const given = JSON.stringify(value);
  switch (expected) {
    case "number": {
      const numeric = typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? value.trim() : undefined;
      return `must be a number: write ${numeric ?? TYPE_EXAMPLES[at] ?? "3"} (no quotes), not ${given}`;
    }
    case "boolean":
      return `must be true or false: write ${/^(yes|on|1|y)$/i.test(String(value)) ? "true" : /^(no|off|0|n)$/i.test(String(value)) ? "false" : "true or false"} (no quotes), not ${given}`;
    case "array":
      return `must be a list, e.g. ${TYPE_EXAMPLES[at] ?? "[…]"}, not ${given}`;
    case "object":
      return `must be a map of keys, e.g. ${TYPE_EXAMPLES[at] ?? "{ … }"}, not ${given}`;
    case "string":
      return `must be text${TYPE_EXAMPLES[at] ? `, e.g. ${TYPE_EXAMPLES[at]}` : ""}; write it in quotes if YAML reads it as something else, e.g. "${String(value)}"`;
    default:
      return `must be ${expected}, not ${given}`;
  }
}

export interface ParseOptions {
  /** The Pulumi stack. Defaults to "dev" (tests); the program, the plan and the scripts pass the real one. */
  stack?: string;
  /** Problems found outside the schema (plain-text secrets): reported in the same ConfigError. */
  issues?: ConfigIssue[];
  /** Directory a relative django-ha:app.path is resolved against. Defaults to the repository's top (PROJECT_ROOT). */
  appBaseDir?: string;
}

/**
 * Validate a whole stack config (the `django-ha:*` keys without the prefix) and return the cluster spec.
 * Collects every problem and throws one ConfigError naming each key, its value and the fix.
 */
export function parseClusterSpec(given: Record<string, unknown>, source?: string, options: ParseOptions = {}): ClusterSpec {
  const raw = given;
  const issues: ConfigIssue[] = [...(options.issues ?? []), ...legacyKeyIssues(raw)];
  const stack = options.stack ?? "dev";
  const add = (path: PropertyKey[], fix: string) => issues.push({ key: keyOf(path), value: show(valueAt(raw, path)), fix });

  const parsed = stackConfigSchema.safeParse(withoutLegacyKeys(raw));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const value = valueAt(raw, issue.path);
      if (issue.code === "unrecognized_keys") {
        for (const k of issue.keys)
          add([...issue.path, k], `is not a known key; remove it or check its spelling (known keys are listed in README "Configuration")`);
      } else if (issue.code === "invalid_type" && value === undefined) {
        add(issue.path, `is required; set it with \`pulumi config set ${keyOf(issue.path)} <value>\``);
      } else if (issue.code === "invalid_type" && ["number", "boolean", "array", "object", "string"].includes(issue.expected)) {
        add(issue.path, typeFix(issue.expected, issue.path, value));
      } else {
        add(issue.path, issue.message);
      }
    }
    issues.push(...crossFieldIssues(withoutLegacyKeys(raw), parsed.error.issues, stack, options.appBaseDir));
    throw new ConfigError(issues, source);
  }
  const c = parsed.data;
  const spec = buildSpec(c, add, stack, options.appBaseDir);
  if (issues.length || !spec) throw new ConfigError(issues, source);
  return spec;
}

type Add = (path: PropertyKey[], fix: string) => void;

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Keys of the form before the database machines got neutral names (db-1, db-2): `hosts.parent` /
 * `hosts.standby` and `sizes.parent` / `sizes.standby`. Refused with the new form written out, because a
 * machine named for a role misleads after a failover. Pure.
 */
function legacyKeyIssues(raw: Record<string, unknown>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const hosts = raw.hosts;
  if (isMap(hosts) && ("parent" in hosts || "standby" in hosts)) {
    const entries = [hosts.parent, hosts.standby].filter((e) => e !== undefined);
    const newForm = `django-ha:hosts: { databases: [ ${entries.map((e) => JSON.stringify(e)).join(", ") || "{ address: … }, { address: … }"} ], children: […], worker: {…} }`;
    for (const old of ["parent", "standby"] as const) {
      if (!(old in hosts)) continue;
      const fix =
        "databases" in hosts
          ? `is the old form beside django-ha:hosts.databases, which lists the two database machines; remove hosts.${old} (or move its entry into databases)`
          : `is the old form: the two database machines are now listed, in order, as django-ha:hosts.databases (exactly two entries, the same fields), ` +
            `and django-ha:primary names the one that is the primary (defaults to the first); write ${newForm}`;
      issues.push({ key: keyOf(["hosts", old]), value: show(hosts[old]), fix });
    }
  }
  const sizes = raw.sizes;
  if (isMap(sizes) && ("parent" in sizes || "standby" in sizes)) {
    const suggested = sizes.db ?? sizes.parent ?? sizes.standby;
    for (const old of ["parent", "standby"] as const) {
      if (!(old in sizes)) continue;
      issues.push({
        key: keyOf(["sizes", old]),
        value: show(sizes[old]),
        fix: `is the old form: both database machines have one size, django-ha:sizes.db (either may become the primary); write sizes: { db: ${JSON.stringify(suggested)} } instead of sizes.parent and sizes.standby`,
      });
    }
  }
  return issues;
}

/** The config with the old keys (legacyKeyIssues, already reported) turned into the new form, so every other key is still checked. Pure. */
function withoutLegacyKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const out = { ...raw };
  if (isMap(raw.hosts) && ("parent" in raw.hosts || "standby" in raw.hosts)) {
    const { parent, standby, ...rest } = raw.hosts;
    out.hosts = "databases" in rest ? rest : { databases: [parent, standby].filter((e) => e !== undefined), ...rest };
  }
  if (isMap(raw.sizes) && ("parent" in raw.sizes || "standby" in raw.sizes)) {
    const { parent, standby, ...rest } = raw.sizes;
    out.sizes = { ...rest, db: rest.db ?? parent ?? standby };
  }
  return out;
}

/** Stand-ins for required keys that failed the schema, so the cross-key checks can still run on the rest. */
const STAND_INS: Record<string, unknown> = { domain: "example.invalid", acmeEmail: "stand-in@stand-in.net" };
/** Stand-ins for broken entries of a list (a documentation /32: adds nothing a check would notice). */
const ENTRY_STAND_INS: Record<string, unknown> = { adminCidrs: "192.0.2.0/32" };
/** Cross-key checks that read another key: their findings are dropped when that key itself is broken. */
const READS: Record<string, string[]> = {
  domain: ["recordName", "dns", "certificate"],
  recordName: ["certificate"],
  dns: ["certificate"],
  provider: ["certificate"],
  region: ["zones"],
  allowSshFromAnywhere: ["adminCidrs"],
  hosts: ["childCount", "zones", "primary"],
  clusterName: ["primary"],
  acmeDirectory: ["acmeEmail", "certificate"],
  sshPort: ["dns"],
};

/**
 * When the schema already failed, still run the cross-key checks (TTL minimum, regions, sizes, SSH
 * exposure, zones, …) on the keys that passed it, so one ConfigError lists every problem at once.
 * Broken keys are left out (or replaced by a stand-in when required), and findings about them or about
 * keys whose checks read them are dropped. Nothing is reported when the provider itself is broken.
 */
function crossFieldIssues(
  raw: Record<string, unknown>,
  schemaIssues: { path: PropertyKey[]; code: string; keys?: string[] }[],
  stack: string,
  appBaseDir?: string,
): ConfigIssue[] {
  const broken = new Set<string>();
  // Lists whose broken entries are replaced one by one (indices stay, so the other entries keep their keys).
  const brokenEntries = new Map<string, Set<number>>();
  for (const i of schemaIssues) {
    const [key, index] = i.path;
    if (typeof key === "string" && typeof index === "number" && i.path.length === 2 && key in ENTRY_STAND_INS && Array.isArray(raw[key])) {
      brokenEntries.set(key, (brokenEntries.get(key) ?? new Set()).add(index));
    } else if (i.path.length) broken.add(String(key));
    else if (i.code === "unrecognized_keys") i.keys?.forEach((k) => broken.add(k));
  }
  for (const key of broken) brokenEntries.delete(key);
  if (broken.has("provider")) return [];
  const repaired: Record<string, unknown> = { ...raw };
  for (const k of broken) {
    if (k in STAND_INS) repaired[k] = STAND_INS[k];
    else delete repaired[k];
  }
  for (const [key, indices] of brokenEntries)
    repaired[key] = (raw[key] as unknown[]).map((v, i) => (indices.has(i) ? ENTRY_STAND_INS[key] : v));
  const again = stackConfigSchema.safeParse(repaired);
  if (!again.success) return [];
  const skip = new Set([...broken, ...[...broken].flatMap((k) => READS[k] ?? [])]);
  const found: ConfigIssue[] = [];
  buildSpec(
    again.data,
    (path, fix) => {
      const entryBroken = path.length >= 2 && brokenEntries.get(String(path[0]))?.has(path[1] as number);
      if (!skip.has(String(path[0])) && !entryBroken) found.push({ key: keyOf(path), value: show(valueAt(raw, path)), fix });
    },
    stack,
    appBaseDir,
  );
  return found;
}

/** hosts: data devices are stable paths, on the database nodes only (both or neither), db and share apart. */
function dataDeviceIssues(nodes: [PropertyKey[], NodeHost][], add: Add): void {
  for (const [path, n] of nodes) {
    if (!n.dataDevices) continue;
    // Per machine: two machines may well use the same path (e.g. the same by-label name on each).
    const seen = new Map<string, string>();
    if (path[1] !== "databases") {
      add(
        [...path, "dataDevices"],
        "only the database machines (django-ha:hosts.databases) hold data (PostgreSQL, the share); remove dataDevices from this node",
      );
      continue;
    }
    for (const purpose of DATA_PURPOSES) {
      const value = n.dataDevices[purpose];
      const problem = dataDeviceProblem(value);
      if (problem) add([...path, "dataDevices", purpose], problem);
      else if (seen.has(value))
        add(
          [...path, "dataDevices", purpose],
          `is also ${seen.get(value)}; the database and the share need a device each (one filesystem per volume)`,
        );
      seen.set(value, keyOf([...path, "dataDevices", purpose]));
    }
  }
  const [first, second] = nodes.slice(0, DATABASE_MACHINES).map(([, n]) => n);
  if (!!first.dataDevices !== !!second.dataDevices) {
    const [missing, other] = first.dataDevices ? [1, 0] : [0, 1];
    add(
      ["hosts", "databases", missing, "dataDevices"],
      `is missing while django-ha:hosts.databases[${other}] has data devices; give both database machines their volumes (a failover must not move the data onto a root disk), or neither`,
    );
  }
}

/** The record name relative to the domain ("@" for the apex), and its FQDN. An FQDN outside the domain is refused. */
function recordNameOf(c: StackConfig, add: Add): { recordName: string; recordFqdn: string } {
  let recordName = c.recordName;
  if (recordName.endsWith(".")) recordName = recordName.slice(0, -1);
  if (recordName === c.domain) recordName = "@";
  else if (recordName.endsWith(`.${c.domain}`)) recordName = recordName.slice(0, -(c.domain.length + 1));
  const insideDomain = recordName !== c.recordName.replace(/\.$/, "") || !recordName.includes(".");
  if (!insideDomain) {
    add(
      ["recordName"],
      `is outside the domain ${c.domain}; use a label relative to it such as "www", a name ending in .${c.domain}, or "@" for the apex`,
    );
  } else if (recordName !== "@" && !recordName.split(".").every((l) => dnsLabel.test(l))) {
    add(["recordName"], `must be a DNS label such as "www", or "@" for the apex`);
  }
  return { recordName, recordFqdn: recordName === "@" ? c.domain : `${recordName}.${c.domain}` };
}

/** The ACME directory URL (a known name or an https:// URL; undefined when neither), and the contact e-mail checked against it. */
function acmeDirectoryOf(c: StackConfig, add: Add): string | undefined {
  let url: string | undefined = ACME_DIRECTORIES[c.acmeDirectory];
  if (!url) {
    if (/^https:\/\/[^\s]+$/.test(c.acmeDirectory)) url = c.acmeDirectory;
    else add(["acmeDirectory"], `must be "letsencrypt", "letsencrypt-staging" or an https:// ACME directory URL`);
  }
  for (const fix of acmeEmailProblems(c.acmeEmail, url ?? ACME_DIRECTORIES.letsencrypt)) add(["acmeEmail"], fix);
  return url;
}

/**
 * The admin CIDRs, canonical and each once. SSH exposure: required on every target (the hosts target enforces it
 * with each node's own firewall); 0.0.0.0/0 is only allowed when explicitly asked for. Every spelling counts
 * (0.0.0.0/00, ::0/0, …: model/cidr.ts parses canonically), and so does breadth: CIDRs that together cover more
 * than ANYWHERE_THRESHOLD of an address family are SSH from anywhere too.
 */
function adminCidrsOf(c: StackConfig, add: Add): string[] {
  if (!c.adminCidrs.length) add(["adminCidrs"], 'is required: the CIDRs SSH is allowed from, e.g. ["203.0.113.7/32"]');
  const adminCidrs = c.adminCidrs.flatMap((text) => {
    const parsed = parseCidr(text);
    return parsed.ok ? [parsed.cidr] : [];
  });
  if (!c.allowSshFromAnywhere) sshFromAnywhereIssues(adminCidrs, add);
  return [...new Set(adminCidrs.map((a) => a.text))];
}

function sshFromAnywhereIssues(adminCidrs: Cidr[], add: Add): void {
  const orAllow =
    "list your office/VPN addresses (e.g. 203.0.113.7/32), or set django-ha:allowSshFromAnywhere to true if you really mean it";
  const alone = new Set<number>();
  for (const [i, cidr] of adminCidrs.entries()) {
    const [family] = broaderThanThreshold([cidr]);
    if (!family) continue;
    alone.add(i);
    add(
      ["adminCidrs", i],
      cidr.prefix === 0
        ? `opens SSH to the whole Internet (it is ${cidr.text}); ${orAllow}`
        : `covers ${describeCount(cidr.size)} IPv${family} addresses, more than a ${ANYWHERE_THRESHOLD_TEXT[family]}: that counts as SSH from anywhere; ${orAllow}`,
    );
  }
  const rest = adminCidrs.filter((_, i) => !alone.has(i));
  for (const family of broaderThanThreshold(rest)) {
    add(
      ["adminCidrs"],
      `together cover ${describeCount(coverage(rest)[family])} IPv${family} addresses, more than a ${ANYWHERE_THRESHOLD_TEXT[family]}: that counts as SSH from anywhere; ${orAllow}`,
    );
  }
}

/**
 * Ports: SSH on a port a cluster service listens on would fail to bind (or take the service's place) and open that
 * service's port to the admin networks; a DNS server on one is a typo (and, on a cluster host, the same clash).
 */
function portIssues(c: StackConfig, add: Add): void {
  const sshClash = clusterServiceOn(c.sshPort, "tcp");
  if (sshClash) add(["sshPort"], `is the port of ${sshClash}; pick another, e.g. 22 or 2222`);
  if (c.dns) {
    const dnsClash = clusterServiceOn(c.dns.port) ?? (c.dns.port === c.sshPort ? "SSH (django-ha:sshPort)" : undefined);
    if (dnsClash) add(["dns", "port"], `is the port of ${dnsClash}; RFC 2136 servers listen on 53 (remove dns.port) or another free port`);
  }
}

/** Where the machines are and how many children: what differs per provider besides the provider-only fields. */
interface Placement {
  region: string;
  zones: string[];
  sizes: Sizes;
  childCount: number;
}

/** The hosts target's machines: names defaulted, addresses, names and zones checked. Undefined when django-ha:hosts is missing. */
function hostsMachinesOf(c: StackConfig, add: Add): HostsMachinesSpec | undefined {
  if (!c.hosts) {
    add(["hosts"], "is required for provider hosts: give databases (two entries), children[] and worker, each with an address");
    return undefined;
  }
  const h = c.hosts;
  if (c.childCount !== undefined && c.childCount !== h.children.length) {
    add(
      ["childCount"],
      `does not match the ${h.children.length} entries of django-ha:hosts.children; remove childCount (it is derived) or list that many children`,
    );
  }
  const node = (e: HostEntry, fallbackName: string): NodeHost => ({
    address: e.address,
    privateAddress: e.privateAddress ?? e.address,
    zone: e.zone ?? "default",
    name: e.name ?? fallbackName,
    ...(e.dataDevices ? { dataDevices: { db: e.dataDevices.db, share: e.dataDevices.share } } : {}),
  });
  const hosts: HostsMachinesSpec = {
    databases: [node(h.databases[0], databaseMachineName(c.clusterName, 1)), node(h.databases[1], databaseMachineName(c.clusterName, 2))],
    children: h.children.map((e, i) => node(e, `${c.clusterName}-child-${i + 1}`)),
    worker: node(h.worker, `${c.clusterName}-worker`),
  };
  const all = hostEntries(hosts);
  uniqueHostIssues(all, add);
  dataDeviceIssues(all, add);
  const zones = [...new Set(all.map(([, n]) => n.zone))];
  const [db1, db2] = hosts.databases;
  if (zones.length > 1 && db1.zone === db2.zone) {
    add(
      ["hosts", "databases", 1, "zone"],
      `is the zone of django-ha:hosts.databases[0] too; put the two database machines in different zones (e.g. ${zones.filter((z) => z !== db1.zone).join(", ")}) so one failure cannot take both`,
    );
  }
  return hosts;
}

/** Every host entry with its config path, databases first. */
function hostEntries(hosts: HostsMachinesSpec): [PropertyKey[], NodeHost][] {
  return [
    ...hosts.databases.map((n, i): [PropertyKey[], NodeHost] => [["hosts", "databases", i], n]),
    ...hosts.children.map((n, i): [PropertyKey[], NodeHost] => [["hosts", "children", i], n]),
    [["hosts", "worker"], hosts.worker],
  ];
}

/**
 * Addresses compare in canonical form (2001:db8::1 = 2001:DB8:0::1). A public address shared by two entries would
 * send the bootstrap to one machine twice and leave the other unconfigured.
 */
function uniqueHostIssues(all: [PropertyKey[], NodeHost][], add: Add): void {
  const canonical = (a: string) => parseAddress(a)?.text ?? a;
  const seenAddr = new Map<string, string>();
  const seenPublic = new Map<string, string>();
  const seenName = new Set<string>();
  for (const [path, n] of all) {
    const priv = canonical(n.privateAddress);
    const pub = canonical(n.address);
    if (seenAddr.has(priv)) add([...path, "privateAddress"], `is also used by ${seenAddr.get(priv)}; every machine needs its own address`);
    seenAddr.set(priv, keyOf(path));
    if (seenPublic.has(pub))
      add(
        [...path, "address"],
        `is also the address of ${seenPublic.get(pub)}; every machine needs its own address (SSH and the bootstrap reach each machine on it)`,
      );
    seenPublic.set(pub, keyOf(path));
    if (seenName.has(n.name)) add([...path, "name"], `duplicates another node's name; names must be unique`);
    seenName.add(n.name);
  }
}

/** The hosts target's RFC 2136 server (zone defaulted to the domain, and checked to hold the record). Undefined when django-ha:dns is missing. */
function rfc2136Of(c: StackConfig, recordFqdn: string, add: Add): Rfc2136Spec | undefined {
  if (!c.dns) {
    add(["dns"], "is required for provider hosts: the RFC 2136 server {server, tsigKeyName} that holds the zone of django-ha:domain");
    return undefined;
  }
  const dns: Rfc2136Spec = {
    server: c.dns.server,
    port: c.dns.port,
    zone: c.dns.zone ?? c.domain,
    tsigKeyName: c.dns.tsigKeyName,
    tsigAlgorithm: c.dns.tsigAlgorithm,
  };
  if (recordFqdn !== dns.zone && !recordFqdn.endsWith(`.${dns.zone}`))
    add(["dns", "zone"], `does not contain the record ${recordFqdn}; use the zone that holds it`);
  return dns;
}

/** The hosts target: its machines, its DNS server and the placement that follows from them. */
function hostsPartOf(c: StackConfig, recordFqdn: string, add: Add): { placement: Placement; hosts?: HostsMachinesSpec; dns?: Rfc2136Spec } {
  if (Object.keys(c.sizes).length) add(["sizes"], "is not used by the hosts target (the machines exist already); remove it");
  const hosts = hostsMachinesOf(c, add);
  const dns = rfc2136Of(c, recordFqdn, add);
  if (c.ttl < 1) add(["ttl"], "must be at least 1 s");
  const zones = hosts ? [...new Set(hostEntries(hosts).map(([, n]) => n.zone))] : [];
  return {
    placement: {
      region: hosts ? (c.region ?? "existing") : (c.region ?? ""),
      zones,
      sizes: { child: "existing", db: "existing", worker: "existing" },
      childCount: hosts ? hosts.children.length : (c.childCount ?? 2),
    },
    hosts,
    dns,
  };
}

/** What both clouds check: no hosts-only keys, known sizes, an SSH key for the bootstrap, the provider's minimum TTL. */
function cloudPlacementOf(c: StackConfig, provider: CloudProvider, add: Add): Placement {
  if (c.hosts) add(["hosts"], `is only for provider hosts; remove it for ${provider}`);
  if (c.dns) add(["dns"], `is only for provider hosts (${provider} manages DNS itself); remove it`);
  const sizes = { ...DEFAULT_SIZES[provider], ...c.sizes };
  const known = catalog[provider].sizes as Record<string, unknown>;
  for (const kind of SIZE_KEYS) {
    if (!(sizes[kind] in known))
      add(
        ["sizes", kind],
        `is not a ${provider} size this project knows; use one of ${Object.keys(known).join(", ")} (or add it with its price to model/catalog.json)`,
      );
  }
  if (!c.sshPublicKeys.length) add(["sshPublicKeys"], "is required: at least one OpenSSH public key for the bootstrap to log in with");
  const minTtl = catalog[provider].minTtlSeconds;
  if (c.ttl < minTtl) add(["ttl"], `is below ${provider}'s minimum of ${minTtl} s; set it to ${Math.max(minTtl, 30)}`);
  return { region: c.region ?? "", zones: cloudZonesOf(c, provider, add), sizes, childCount: c.childCount ?? 2 };
}

function cloudZonesOf(c: StackConfig, provider: CloudProvider, add: Add): string[] {
  switch (provider) {
    case "digitalocean":
      return digitalOceanZonesOf(c, add);
    case "aws":
      return awsZonesOf(c, add);
    default:
      return unknownProvider(provider);
  }
}

/** DigitalOcean: a known region, no availability zones inside it (the region is the one zone). */
function digitalOceanZonesOf(c: StackConfig, add: Add): string[] {
  const regions = catalog.digitalocean.regions;
  if (!c.region) add(["region"], `is required; one of ${regions.join(", ")}`);
  else if (!regions.includes(c.region)) add(["region"], `is not a DigitalOcean region; use one of ${regions.join(", ")}`);
  if (c.zones && !(c.zones.length === 1 && c.zones[0] === c.region))
    add(["zones"], "DigitalOcean has no availability zones inside a region; remove django-ha:zones");
  if (c.hostedZoneId) add(["hostedZoneId"], "is only for aws; remove it");
  return [c.region ?? ""];
}

/** AWS: a known region and at least two of its availability zones (the two database machines never share one). */
function awsZonesOf(c: StackConfig, add: Add): string[] {
  const regions = catalog.aws.regions as Record<string, string[]>;
  if (!c.region) add(["region"], `is required; one of ${Object.keys(regions).join(", ")}`);
  else if (!regions[c.region]) add(["region"], `is not an AWS region this project knows; use one of ${Object.keys(regions).join(", ")}`);
  const region = c.region ?? "";
  const offered = regions[region] ?? [];
  const zones = c.zones ?? offered.slice(0, 2);
  c.zones?.forEach((z, i) => {
    if (offered.length && !offered.includes(z)) add(["zones", i], `is not an availability zone of ${region}; use ${offered.join(", ")}`);
  });
  if (new Set(zones).size !== zones.length) add(["zones"], "lists a zone twice; list each availability zone once");
  else if (zones.length < 2)
    add(
      ["zones"],
      `needs at least two availability zones so the two database machines never share one, e.g. ["${offered[0] ?? "us-east-1a"}", "${offered[1] ?? "us-east-1b"}"]`,
    );
  return zones;
}

/** The primary: one of the two database machines, by name. Default: the first. */
function primaryOf(c: StackConfig, hosts: HostsMachinesSpec | undefined, add: Add): string {
  const databaseNames = hosts ? hosts.databases.map((d) => d.name) : [1, 2].map((i) => databaseMachineName(c.clusterName, i));
  const primary = c.primary ?? databaseNames[0];
  if (!databaseNames.includes(primary)) {
    add(
      ["primary"],
      `is not a database machine of this cluster; set it to ${databaseNames.map((n) => JSON.stringify(n)).join(" or ")} (the one that is the primary now), or remove it for the first`,
    );
  }
  return primary;
}

type CloudProvider = Exclude<ProviderName, "hosts">;

/** The parts every target checks first, in the order their problems are reported. */
interface CommonParts {
  recordName: string;
  recordFqdn: string;
  acmeDirectoryUrl: string | undefined;
  adminCidrs: string[];
}

function commonPartsOf(c: StackConfig, add: Add): CommonParts {
  const { recordName, recordFqdn } = recordNameOf(c, add);
  const acmeDirectoryUrl = acmeDirectoryOf(c, add);
  const adminCidrs = adminCidrsOf(c, add);
  portIssues(c, add);
  return { recordName, recordFqdn, acmeDirectoryUrl, adminCidrs };
}

interface BaseInput {
  common: CommonParts;
  placement: Placement;
  primary: string;
  stack: string;
  appBaseDir?: string;
}

/** What every target's spec holds. Collects the certificate's, health's and app's issues. */
function baseSpecOf(c: StackConfig, input: BaseInput, add: Add): ClusterSpecBase {
  const { recordName, recordFqdn, acmeDirectoryUrl, adminCidrs } = input.common;
  return {
    clusterName: c.clusterName,
    stack: input.stack,
    ...input.placement,
    domain: c.domain,
    recordName,
    recordFqdn,
    ttl: c.ttl,
    volumes: { dbGb: c.volumes.dbGb, shareGb: c.volumes.shareGb },
    adminCidrs,
    allowSshFromAnywhere: c.allowSshFromAnywhere,
    sshPublicKeys: c.sshPublicKeys,
    ssh: { user: c.sshUser ?? DEFAULT_SSH_USER[c.provider], port: c.sshPort },
    acme: { email: c.acmeEmail, directoryUrl: acmeDirectoryUrl ?? "" },
    certificate: certificateSpec(c, recordFqdn, acmeDirectoryUrl, add),
    health: healthSpec(c.provider, c.health, add),
    syncReplication: c.syncReplication,
    tags: c.tags,
    primary: input.primary,
    app: appSpecOf(c.app, add, { baseDir: input.appBaseDir }),
  };
}

/** The spec of the config's provider, or undefined when a provider-only key it needs is missing (reported through `add`). */
function providerSpecOf(c: StackConfig, add: Add, opts: { stack: string; appBaseDir?: string }): ClusterSpec | undefined {
  const common = commonPartsOf(c, add);
  const provider = c.provider;
  switch (provider) {
    case "digitalocean": {
      const placement = cloudPlacementOf(c, provider, add);
      return { ...baseSpecOf(c, { ...opts, common, placement, primary: primaryOf(c, undefined, add) }, add), provider };
    }
    case "aws": {
      const placement = cloudPlacementOf(c, provider, add);
      const base = baseSpecOf(c, { ...opts, common, placement, primary: primaryOf(c, undefined, add) }, add);
      return { ...base, provider, hostedZoneId: c.hostedZoneId };
    }
    case "hosts": {
      const { placement, hosts, dns } = hostsPartOf(c, common.recordFqdn, add);
      const base = baseSpecOf(c, { ...opts, common, placement, primary: primaryOf(c, hosts, add) }, add);
      return hosts && dns ? { ...base, provider, hosts, dns } : undefined;
    }
    default:
      return unknownProvider(provider);
  }
}

function buildSpec(c: StackConfig, add: Add, stack: string, appBaseDir?: string): ClusterSpec | undefined {
  const spec = providerSpecOf(c, add, { stack, appBaseDir });
  // Every name the provider resources get, against the provider's rules (length, characters, collisions).
  if (spec) for (const issue of providerNameIssues(spec)) add(issue.path, issue.fix);
  return spec;
}
