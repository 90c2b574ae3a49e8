/**
 * Every name the cluster gives a provider resource, derived in one place from the cluster AND the stack,
 * and checked against each provider's rules at plan time (before anything registers). Pure.
 *
 * Why the stack: two stacks with the same clusterName in one account (production and staging) must never
 * share a DigitalOcean tag, firewall target or VPC name — a shared role tag would put staging droplets
 * behind production's data firewall and open production's PostgreSQL to them.
 *
 * Node names (`<cluster>-db-1`, `<cluster>-child-1`, …) stay as they are: they are the machines' hostnames
 * and the inventory's keys, and droplet names and EC2 Name tags need not be unique in an account.
 *
 * Everything per machine is named by the machine (db-1, db-2), never by its role: a failover changes
 * django-ha:primary, and no name may then call the standby "parent" or make Pulumi replace a volume.
 */
import { createHash } from "node:crypto";
import { FIREWALL_GROUPS, type FirewallGroupName } from "./firewall";
import { unknownProvider, type AwsSpec, type ClusterSpec, type DigitalOceanSpec } from "./spec";
import { planNodes, Role, ROLES } from "./topology";

export const VOLUME_PURPOSES = ["db", "share"] as const;
/** Short keys of the two database machines in resource and volume names, whatever their role. */
export const DATABASE_MACHINE_KEYS = ["db-1", "db-2"] as const;
export type VolumePurpose = (typeof VOLUME_PURPOSES)[number];

type NameSpec = Pick<ClusterSpec, "clusterName" | "stack" | "tags">;

/**
 * The stack as a label in provider-side names: the stack name itself when it is already a lower-case DNS
 * label, else its normalised form plus 6 hex digits of its SHA-256, so `prod_eu`, `Prod-EU` and `prod-eu`
 * (all valid Pulumi stack names) never map to one label.
 */
export function stackLabel(stack: string): string {
  if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(stack)) return stack;
  const base = stack
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  const hash = createHash("sha256").update(stack).digest("hex").slice(0, 6);
  return base ? `${base}-${hash}` : `stack-${hash}`;
}

/** `<cluster>-<stack label>`: the prefix of every provider-side name that must be unique per account. */
export function nameScope(spec: Pick<ClusterSpec, "clusterName" | "stack">): string {
  return `${spec.clusterName}-${stackLabel(spec.stack)}`;
}

// ---------- DigitalOcean ----------

export interface DigitalOceanTags {
  /** On every droplet of the cluster: firewalls' "cluster members" source. */
  cluster: string;
  /**
   * One per role, e.g. `shop-production-child`: firewalls target children and the worker by it (scales past 10
   * droplets, no id churn). A database machine's role tag (`…-parent` / `…-standby`) states its current role and
   * follows django-ha:primary; no firewall targets it.
   */
  roles: Record<Role, string>;
  /** On both database machines, whatever their role, e.g. `shop-production-db`: the data firewall targets it, so a failover changes no firewall membership. */
  database: string;
  /** django-ha:tags as `key:value` tag names (`key` alone for an empty value), in config order. */
  user: string[];
}

/** Tag names of a cluster. Pure. */
export function planTags(spec: NameSpec): DigitalOceanTags {
  const scope = nameScope(spec);
  const roles = Object.fromEntries(ROLES.map((r) => [r, `${scope}-${r}`])) as Record<Role, string>;
  return {
    cluster: `django-ha-${scope}`,
    roles,
    database: `${scope}-db`,
    user: Object.entries(spec.tags).map(([k, v]) => (v ? `${k}:${v}` : k)),
  };
}

/** Pulumi resource-name suffix of a DigitalOcean tag (Pulumi names cannot hold every tag character). */
export function tagResourceSuffix(tagName: string): string {
  return tagName.replace(/[^a-z0-9-]/gi, "-").toLowerCase();
}

export const digitalOceanNames = {
  vpc: (spec: NameSpec) => `${nameScope(spec)}-vpc`,
  firewall: (spec: NameSpec, group: FirewallGroupName) => `${nameScope(spec)}-${group}`,
  /** Block volume of database machine `machine` (`db-1`, `db-2`): unique per region, and what /dev/disk/by-id/scsi-0DO_Volume_<name> shows. */
  volume: (spec: NameSpec, machine: string, purpose: VolumePurpose) => `${nameScope(spec)}-${machine}-${purpose}`,
  /** Display name of the n-th (1-based) `sshPublicKeys` entry as a DigitalOcean SSH key (the API sets no rules on it). */
  sshKey: (spec: NameSpec, n: number) => `${nameScope(spec)}-admin-${n}`,
};

// ---------- AWS ----------

/** Tags django-ha sets itself on AWS resources; a user tag may not use these keys. */
export const AWS_OWN_TAG_KEYS = ["Name", "django-ha:cluster", "django-ha:stack", "django-ha:role"] as const;

/** The tags every AWS resource of the cluster carries: the user's, plus which cluster and stack it belongs to. */
export function awsBaseTags(spec: NameSpec): Record<string, string> {
  return { ...spec.tags, "django-ha:cluster": spec.clusterName, "django-ha:stack": spec.stack };
}

export const awsNames = {
  /** Name tag of the VPC, its gateway and route table. */
  network: (spec: NameSpec) => nameScope(spec),
  subnet: (spec: NameSpec, zone: string) => `${nameScope(spec)}-${zone}`,
  securityGroup: (spec: NameSpec, group: FirewallGroupName) => `${nameScope(spec)}-${group}`,
  volume: (spec: NameSpec, machine: string, purpose: VolumePurpose) => `${nameScope(spec)}-${machine}-${purpose}`,
  healthCheck: (spec: NameSpec, child: string, fqdn: string) => `${nameScope(spec)} ${child} ${fqdn}`,
  /** Pulumi auto-names a security group `<resource name>-<7 hex>`: the resource name of group `group`. */
  securityGroupResource: (spec: Pick<ClusterSpec, "clusterName">, group: FirewallGroupName) => `${spec.clusterName}-aws-sg-${group}`,
};

// ---------- rules ----------

/** One rule a provider puts on a kind of name. */
interface NameRule {
  what: string;
  max: number;
  pattern: RegExp;
  /** What the pattern means, for the message. */
  allowed: string;
  /** Where the rule is written down. */
  source: string;
}

/**
 * The providers' naming rules, as documented:
 * - DigitalOcean droplet: "must be formatted by hostname rules" (API droplets_create, doctl): LDH labels of
 *   1-63 characters; the name is also the machine's hostname.
 * - DigitalOcean volume: "Must be lowercase and be composed only of numbers, letters and "-", up to a limit
 *   of 64 characters. The name must begin with a letter." (API volumes_create).
 * - DigitalOcean tag: "Tags may contain letters, numbers, colons, dashes, and underscores. There is a limit
 *   of 255 characters per tag." Tag names are case-stable: `PROD` and `prod` are one tag (API tags_create).
 * - DigitalOcean firewall: "The name must begin with an alphanumeric character. Subsequent characters must
 *   either be alphanumeric characters, a period (.), or a dash (-)." (API firewalls_create; no length given,
 *   255 checked as for tags).
 * - DigitalOcean VPC: "Must be unique and may only contain alphanumeric characters, dashes, and periods."
 *   (API vpcs_create; no length given, 255 checked).
 * - AWS tag keys 1-128 and values 0-256 characters: letters, numbers, spaces and `_ . : / = + - @`; the `aws:`
 *   prefix is reserved (EC2 User Guide, "Tag restrictions"); at most 50 tags per EC2 resource and 10 per
 *   Route 53 health check (Route 53 API ChangeTagsForResource).
 * - AWS security group name: up to 255 characters, may not start with `sg-` (EC2 API CreateSecurityGroup).
 * - Route 53 SetIdentifier: 1-128 characters (Route 53 API ResourceRecordSet).
 */
export const NAME_RULES = {
  hostname: {
    what: "node name (the machine's hostname)",
    max: 63,
    pattern: /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
    allowed: "a host name label: a-z, 0-9 and '-'",
    source: "RFC 1123 (host name labels)",
  },
  droplet: {
    what: "DigitalOcean droplet name (the hostname)",
    max: 63,
    pattern: /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
    allowed: "a hostname label: a-z, 0-9 and '-'",
    source: "DigitalOcean API droplets_create (hostname rules)",
  },
  doVolume: {
    what: "DigitalOcean volume name",
    max: 64,
    pattern: /^[a-z][a-z0-9-]*$/,
    allowed: "lower-case letters, digits and '-', starting with a letter",
    source: "DigitalOcean API volumes_create",
  },
  doTag: {
    what: "DigitalOcean tag",
    max: 255,
    pattern: /^[A-Za-z0-9:_-]+$/,
    allowed: "letters, digits, ':', '-' and '_'",
    source: "DigitalOcean API tags_create",
  },
  doFirewall: {
    what: "DigitalOcean firewall name",
    max: 255,
    pattern: /^[A-Za-z0-9][A-Za-z0-9.-]*$/,
    allowed: "letters, digits, '.' and '-', starting with a letter or digit",
    source: "DigitalOcean API firewalls_create",
  },
  doVpc: {
    what: "DigitalOcean VPC name",
    max: 255,
    pattern: /^[A-Za-z0-9.-]+$/,
    allowed: "letters, digits, '-' and '.'",
    source: "DigitalOcean API vpcs_create",
  },
  awsTagKey: {
    what: "AWS tag key",
    max: 128,
    pattern: /^[\p{L}\p{N}\p{Zs}_.:/=+\-@]+$/u,
    allowed: "letters, digits, spaces and _ . : / = + - @",
    source: "EC2 User Guide, tag restrictions",
  },
  awsTagValue: {
    what: "AWS tag value",
    max: 256,
    pattern: /^[\p{L}\p{N}\p{Zs}_.:/=+\-@]*$/u,
    allowed: "letters, digits, spaces and _ . : / = + - @",
    source: "EC2 User Guide, tag restrictions",
  },
  awsSecurityGroup: {
    what: "AWS security group name",
    max: 255,
    pattern: /^(?!sg-)[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]+$/,
    allowed: "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*, not starting with sg-",
    source: "EC2 API CreateSecurityGroup",
  },
  setIdentifier: {
    what: "Route 53 set identifier",
    max: 128,
    pattern: /^.+$/,
    allowed: "1-128 characters",
    source: "Route 53 API ResourceRecordSet",
  },
} satisfies Record<string, NameRule>;

/** AWS: tags per Route 53 health check (the tightest per-resource limit among the tagged resources). */
export const AWS_HEALTH_CHECK_TAG_LIMIT = 10;

/** Why `name` breaks `rule`, or undefined. */
export function breaksRule(name: string, rule: NameRule): string | undefined {
  const length = [...name].length;
  if (length > rule.max) return `${rule.what} ${JSON.stringify(name)} is ${length} characters; ${rule.source} allows ${rule.max}`;
  if (!rule.pattern.test(name)) return `${rule.what} ${JSON.stringify(name)} is not allowed: ${rule.source} allows ${rule.allowed}`;
  return undefined;
}

/** A problem with a derived name: the config key to blame and the fix. */
export interface NameIssue {
  path: PropertyKey[];
  fix: string;
}

/**
 * Check every name the spec's provider would create: lengths, characters, first characters, reserved
 * keys, per-resource tag limits, and collisions (two tags that are one tag to DigitalOcean, or one Pulumi
 * resource name). Pure; the schema calls it once the spec is built.
 */
export function providerNameIssues(spec: ClusterSpec): NameIssue[] {
  const issues: NameIssue[] = [];
  const check = clusterNameChecker(spec, issues);
  switch (spec.provider) {
    case "digitalocean":
      digitalOceanNameIssues(spec, check, issues);
      break;
    case "aws":
      awsNameIssues(spec, check, issues);
      break;
    case "hosts":
      break; // the machines exist: no provider resource is named
    default:
      return unknownProvider(spec);
  }
  return issues;
}

type NameCheck = (name: string, rule: NameRule) => void;

/** Derived names break a rule because of the cluster name (or the stack name): blame clusterName, once per rule. */
function clusterNameChecker(spec: ClusterSpec, issues: NameIssue[]): NameCheck {
  const reported = new Set<string>();
  return (name, rule) => {
    const problem = breaksRule(name, rule);
    if (!problem || reported.has(rule.what)) return;
    reported.add(rule.what);
    const tooLong = [...name].length > rule.max;
    issues.push({
      path: ["clusterName"],
      fix: tooLong
        ? `gives the ${problem}; use a shorter django-ha:clusterName${name.includes(stackLabel(spec.stack)) ? ` (or a shorter stack name than ${JSON.stringify(spec.stack)})` : ""}`
        : `gives the ${problem}; choose a django-ha:clusterName that fits (e.g. one starting with a letter)`,
    });
  };
}

function digitalOceanNameIssues(spec: DigitalOceanSpec, check: NameCheck, issues: NameIssue[]): void {
  for (const node of planNodes(spec)) check(node.name, NAME_RULES.droplet);
  for (const machine of DATABASE_MACHINE_KEYS)
    for (const p of VOLUME_PURPOSES) check(digitalOceanNames.volume(spec, machine, p), NAME_RULES.doVolume);
  check(digitalOceanNames.vpc(spec), NAME_RULES.doVpc);
  for (const g of FIREWALL_GROUPS) check(digitalOceanNames.firewall(spec, g), NAME_RULES.doFirewall);
  const tags = planTags(spec);
  for (const t of [tags.cluster, tags.database, ...Object.values(tags.roles)]) check(t, NAME_RULES.doTag);
  userTagIssues(spec, tags, issues);
}

/**
 * User tags on DigitalOcean: their own characters, and no two tags that DigitalOcean (case-insensitive) or Pulumi
 * (resource names) would take for one. A user tag equal to a role tag would put every droplet behind that role's firewall.
 */
function userTagIssues(spec: DigitalOceanSpec, tags: DigitalOceanTags, issues: NameIssue[]): void {
  const ours = new Map<string, string>([
    [tags.cluster.toLowerCase(), "the cluster tag"],
    [tags.database.toLowerCase(), "the database machines' tag"],
    ...Object.entries(tags.roles).map(([r, t]): [string, string] => [t.toLowerCase(), `the ${r} role tag`]),
  ]);
  const seen = new Map<string, string>();
  const seenResource = new Map<string, string>(
    [tags.cluster, tags.database, ...Object.values(tags.roles)].map((t) => [tagResourceSuffix(t), t]),
  );
  Object.keys(spec.tags).forEach((key, i) => {
    const name = tags.user[i];
    const problem = breaksRule(name, NAME_RULES.doTag);
    const suggestion = name.replace(/[^A-Za-z0-9:_-]/g, "-");
    if (problem) {
      issues.push({
        path: ["tags", key],
        fix: `gives the DigitalOcean tag ${JSON.stringify(name)}, which is not allowed: ${NAME_RULES.doTag.source} allows ${NAME_RULES.doTag.allowed} (at most ${NAME_RULES.doTag.max}); write it as ${JSON.stringify(suggestion)}`,
      });
      return;
    }
    const lower = name.toLowerCase();
    if (ours.has(lower))
      issues.push({
        path: ["tags", key],
        fix: `gives the tag ${JSON.stringify(name)}, which is ${ours.get(lower)} (firewalls target it); rename the tag`,
      });
    else if (seen.has(lower))
      issues.push({
        path: ["tags", key],
        fix: `gives the tag ${JSON.stringify(name)}, which DigitalOcean takes for the same tag as ${JSON.stringify(seen.get(lower))} (tag names are case-insensitive); keep one of them`,
      });
    const resource = tagResourceSuffix(name);
    if (!seen.has(lower) && seenResource.has(resource))
      issues.push({
        path: ["tags", key],
        fix: `gives the tag ${JSON.stringify(name)}, whose Pulumi resource name (…-tag-${resource}) is that of ${JSON.stringify(seenResource.get(resource))}; rename one of them`,
      });
    seen.set(lower, name);
    seenResource.set(resource, name);
  });
}

function awsNameIssues(spec: AwsSpec, check: NameCheck, issues: NameIssue[]): void {
  const entries = Object.entries(spec.tags);
  for (const [key, value] of entries) {
    if (/^aws:/i.test(key))
      issues.push({
        path: ["tags", key],
        fix: `uses the prefix "aws:", which AWS reserves for its own tags; use another key, e.g. ${JSON.stringify(key.slice(4) || "team")}`,
      });
    else if ((AWS_OWN_TAG_KEYS as readonly string[]).includes(key))
      issues.push({
        path: ["tags", key],
        fix: `is a tag django-ha sets itself (${key === "Name" ? "each resource's name" : "to find the cluster's resources"}); use another key`,
      });
    else {
      const k = breaksRule(key, NAME_RULES.awsTagKey);
      if (k) issues.push({ path: ["tags", key], fix: `is not a valid tag key: ${k}` });
      const v = breaksRule(value, NAME_RULES.awsTagValue);
      if (v) issues.push({ path: ["tags", key], fix: `has a value that is not valid: ${v}` });
    }
  }
  const own = 3; // Name, django-ha:cluster, django-ha:stack on every health check
  if (entries.length + own > AWS_HEALTH_CHECK_TAG_LIMIT) {
    issues.push({
      path: ["tags"],
      fix: `has ${entries.length} tags; Route 53 allows ${AWS_HEALTH_CHECK_TAG_LIMIT} per health check and django-ha sets ${own} (Name, django-ha:cluster, django-ha:stack): keep at most ${AWS_HEALTH_CHECK_TAG_LIMIT - own}`,
    });
  }
  const base = { ...spec, tags: {} };
  for (const g of FIREWALL_GROUPS) check(`${awsNames.securityGroupResource(spec, g)}-0000000`, NAME_RULES.awsSecurityGroup);
  for (const value of [
    awsNames.network(base),
    ...spec.zones.map((z) => awsNames.subnet(base, z)),
    ...FIREWALL_GROUPS.map((g) => awsNames.securityGroup(base, g)),
  ])
    check(value, NAME_RULES.awsTagValue);
  for (const node of planNodes(spec)) {
    check(node.name, NAME_RULES.hostname);
    if (node.role === "child") {
      check(node.name, NAME_RULES.setIdentifier);
      check(awsNames.healthCheck(spec, node.name, spec.recordFqdn), NAME_RULES.awsTagValue);
    }
  }
}
