/**
 * The cross-key checks and the spec built from a config the schema accepted (buildSpec), in named pieces:
 * names, the record, ACME, admin networks and SSH exposure, ports, the hosts and their DNS server, zones, the
 * primary. Each reports its problems through `add`.
 */
import catalog from "./catalog.json";
import { ANYWHERE_THRESHOLD_TEXT, broaderThanThreshold, Cidr, coverage, describeCount, parseAddress, parseCidr } from "./cidr";
import { appSpecOf } from "./app";
import { certificateSpec } from "./certificate";
import { healthSpec } from "./health";
import { acmeEmailProblems } from "./email";
import { providerNameIssues } from "./names";
import { clusterServiceOn } from "./ports";
import { dataDeviceProblem, DATA_PURPOSES } from "./volumes";
import {
  ACME_DIRECTORIES,
  DATABASE_MACHINES,
  DEFAULT_SIZES,
  DEFAULT_SSH_USER,
  dnsLabel,
  PROJECT,
  SIZE_KEYS,
  type HostEntry,
  type ProviderName,
  type Sizes,
  type StackConfig,
} from "./schema";
import {
  databaseMachineName,
  unknownProvider,
  type ClusterSpec,
  type ClusterSpecBase,
  type HostsMachinesSpec,
  type NodeHost,
  type Rfc2136Spec,
} from "./spec";

/** Reports one problem: the key's path and the fix (parse.ts adds the value and the key's full name). */
export type Add = (path: PropertyKey[], fix: string) => void;

export function keyOf(path: PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  return `${PROJECT}:${head ?? ""}${rest.map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join("")}`;
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

export function buildSpec(c: StackConfig, add: Add, stack: string, appBaseDir?: string): ClusterSpec | undefined {
  const spec = providerSpecOf(c, add, { stack, appBaseDir });
  // Every name the provider resources get, against the provider's rules (length, characters, collisions).
  if (spec) for (const issue of providerNameIssues(spec)) add(issue.path, issue.fix);
  return spec;
}
