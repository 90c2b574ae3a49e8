/**
 * parseClusterSpec: a stack's config (the `django-ha:*` keys) → the ClusterSpec, or one ConfigError naming every
 * problem's key, value and fix: the schema's own findings, the old key forms, and the cross-key checks.
 */
import { ConfigError, type ConfigIssue } from "./errors";
import { buildSpec, keyOf } from "./buildSpec";
import { stackConfigSchema } from "./schema";
import type { ClusterSpec } from "./spec";

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
