/**
 * Facts every role derives from the RoleContext (who is primary, who the members are, the paths), checked
 * once up front: bad input fails here with the key, the value and the fix, before anything is rendered.
 */
import * as net from "node:net";
import type { InventoryNode } from "../model";
import { canonicalCidr, parseCidr } from "../model/cidr";
import { POSTGRES_MAJOR } from "../model/debian";
import type { RoleContext } from "./types";

/** Fixed paths of the cluster layout (the app contract). */
export const PATHS = {
  share: "/srv/share",
  /** Releases of the app (roles/release.ts RELEASE_PATHS: their layout, each node's own link). */
  releases: "/srv/share/releases",
  media: "/srv/share/media",
  static: "/srv/share/static",
  acme: "/srv/share/acme",
  tls: "/srv/share/tls",
  /** The parent's share-sync public key, root-owned at the top of the share (the standby reads it over NFS). */
  shareSyncPub: "/srv/share/.django-ha-share-sync.pub",
  appEnv: "/etc/django-ha/app.env",
  /** The app's own secrets (django-ha:appSecrets), loaded after app.env by every app unit and manage.py run. */
  appSecretsEnv: "/etc/django-ha/app-secrets.env",
  /** pip's site-wide config: trusts a plain-http django-ha:app.pythonIndexUrl (roles/files/appenv.ts renderPipConf). */
  pipConf: "/etc/pip.conf",
  uwsgiIni: "/etc/django-ha/uwsgi.ini",
  uwsgiSocket: "/run/django-ha-uwsgi/app.sock",
  uwsgiChainReload: "/run/django-ha-uwsgi/chain-reload",
  stateDir: "/var/lib/django-ha",
  pgConf: `/etc/postgresql/${POSTGRES_MAJOR}/main/conf.d/django-ha.conf`,
  pgHba: `/etc/postgresql/${POSTGRES_MAJOR}/main/pg_hba.conf`,
  pgData: `/var/lib/postgresql/${POSTGRES_MAJOR}/main`,
  pgBin: `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`,
  pgPass: "/var/lib/postgresql/.pgpass",
  shareSyncKey: "/root/.ssh/django-ha-share-sync",
} as const;

export const APP_USER = { name: "django", uid: 950, gid: 950 } as const;
/** The cluster's service ports: defined in model/ports.ts, where the config schema checks sshPort and dns.port against them. */
export { PORTS } from "../model/ports";
export const DB = { name: "app", user: "app", replicationUser: "replicator", slot: "standby", applicationName: "standby" } as const;

export interface ClusterFacts {
  ctx: RoleContext;
  cluster: string;
  fqdn: string;
  primaryHostname: string;
  parent: InventoryNode;
  standby: InventoryNode;
  children: InventoryNode[];
  workers: InventoryNode[];
  /** Private addresses of every node of the inventory (the only sources DB/NFS/Redis accept). */
  memberAddresses: string[];
  adminCidrs: string[];
  sshPort: number;
}

/** Values rendered into env files and scripts must be one line without single quotes. */
function checkSecret(key: string, value: string, problems: string[]): void {
  if (!value) problems.push(`secrets.${key} is empty: generate one (e.g. @pulumi/random RandomPassword) and pass it in`);
  else if (/['\n\r\\]/.test(value))
    problems.push(`secrets.${key} contains a quote, backslash or newline: use letters, digits and punctuation other than ' and \\`);
}

/** The certificate's inputs: the agent program, the names, the DNS-01 credential where one is needed. */
function acmeProblems(ctx: RoleContext, problems: string[]): void {
  const { acme, inventory } = ctx;
  if (!acme.agentSource.trim()) problems.push("acme.agentSource is empty: pass the bundled agent (ops/acme/bundle.ts bundleAgent())");
  if (acme.certificate.names[0] !== inventory.recordFqdn)
    problems.push(
      `acme.certificate.names = ${JSON.stringify(acme.certificate.names)} must start with the record name ${inventory.recordFqdn}: build it from the stack's spec (ClusterSpec.certificate)`,
    );
  const needsSecret = acme.certificate.challenge === "dns-01" && inventory.dns.kind !== "route53";
  if (needsSecret && !acme.dnsSecret) {
    problems.push(
      inventory.dns.kind === "rfc2136"
        ? `acme.dnsSecret is missing: dns-01 on RFC 2136 signs with the TSIG key ${acme.certificate.dnsKeyName ?? inventory.dns.keyName}; set django-ha:${acme.certificate.dnsKeyName ? "acmeTsigSecret" : "dnsTsigSecret"} (outside Pulumi: DJANGO_HA_ACME_TSIG_SECRET)`
        : "acme.dnsSecret is missing: dns-01 on DigitalOcean needs a token scoped to domain read/write: set django-ha:acmeDnsToken (outside Pulumi: DJANGO_HA_ACME_DNS_TOKEN)",
    );
  }
  if (acme.dnsSecret !== undefined && /[\s'"\\]/.test(acme.dnsSecret))
    problems.push(
      "acme.dnsSecret contains a space, quote or backslash: a TSIG secret is base64 and a DigitalOcean token letters, digits and '_'",
    );
}

/** The app's secrets: exactly the names of app.secretKeys, each one line (values never shown). */
function appSecretProblems(ctx: RoleContext, problems: string[]): void {
  const names = ctx.app.secretKeys;
  const given = Object.keys(ctx.appSecrets);
  const missing = names.filter((k) => !given.includes(k));
  const extra = given.filter((k) => !names.includes(k));
  if (missing.length)
    problems.push(
      `appSecrets has no value for ${missing.join(", ")} (django-ha:app.secretKeys): set django-ha:appSecrets (outside Pulumi: DJANGO_HA_APP_SECRETS)`,
    );
  if (extra.length)
    problems.push(
      `appSecrets holds ${extra.join(", ")}, which django-ha:app.secretKeys does not name: pass only the app's declared secrets`,
    );
  for (const k of names.filter((n) => given.includes(n))) {
    const v = ctx.appSecrets[k];
    if (!v || /['\n\r\\]/.test(v))
      problems.push(`appSecrets.${k} is empty or contains a quote, backslash or newline (value not shown): use one line without ' and \\`);
  }
}

/** The health agent's inputs where it runs: the program and the DNS credential. */
function healthProblems(ctx: RoleContext, problems: string[]): void {
  const { health, inventory } = ctx;
  if (!health.spec.enabled || inventory.dns.kind === "route53") return;
  if (!health.agentSource.trim())
    problems.push("health.agentSource is empty: pass the bundled agent (ops/health/bundle.ts bundleHealthAgent())");
  if (!health.dnsSecret) {
    problems.push(
      inventory.dns.kind === "rfc2136"
        ? `health.dnsSecret is missing: the health agent signs its record changes with the TSIG key ${health.spec.dnsKeyName ?? inventory.dns.keyName}; set django-ha:${health.spec.dnsKeyName ? "healthTsigSecret" : "dnsTsigSecret"} (outside Pulumi: ${health.spec.dnsKeyName ? "DJANGO_HA_HEALTH_TSIG_SECRET" : "DJANGO_HA_DNS_TSIG_SECRET"})`
        : "health.dnsSecret is missing: the health agent on DigitalOcean needs a token scoped to domain read/update: set django-ha:healthDnsToken (outside Pulumi: DJANGO_HA_HEALTH_DNS_TOKEN)",
    );
  } else if (/[\s'"\\]/.test(health.dnsSecret))
    problems.push(
      "health.dnsSecret contains a space, quote or backslash: a TSIG secret is base64 and a DigitalOcean token letters, digits and '_'",
    );
}

/** The inventory's problems: primary and standby are two of its nodes, roles follow them, addresses are IPs. Pure. */
function inventoryProblems(inv: RoleContext["inventory"], problems: string[]): void {
  const byName = new Map(inv.nodes.map((n) => [n.name, n]));
  const parent = byName.get(inv.primary);
  const standby = byName.get(inv.standby);
  if (!parent)
    problems.push(
      `inventory.primary = ${JSON.stringify(inv.primary)} is not a node of inventory.nodes: name one of ${[...byName.keys()].join(", ")}`,
    );
  if (!standby)
    problems.push(
      `inventory.standby = ${JSON.stringify(inv.standby)} is not a node of inventory.nodes: name one of ${[...byName.keys()].join(", ")}`,
    );
  if (parent && standby && parent.name === standby.name)
    problems.push(`inventory.standby = ${JSON.stringify(inv.standby)} is also the primary: the standby must be another machine`);
  if (byName.size !== inv.nodes.length) problems.push("inventory.nodes has duplicate names: every node needs its own name");
  // Roles are the current ones: exactly the primary has "parent" and exactly the standby "standby"
  // (model/topology.ts withPrimary derives both from the primary's name).
  for (const n of inv.nodes) {
    const want = n.name === inv.primary ? "parent" : n.name === inv.standby ? "standby" : undefined;
    if (want && n.role !== want)
      problems.push(
        `inventory.nodes[${n.name}].role = ${JSON.stringify(n.role)}, but ${n.name} is inventory.${want === "parent" ? "primary" : "standby"}: it must be ${JSON.stringify(want)}; derive the roles from the primary with withPrimary(inventory, ${JSON.stringify(inv.primary)})`,
      );
    else if (!want && (n.role === "parent" || n.role === "standby"))
      problems.push(
        `inventory.nodes[${n.name}].role = ${JSON.stringify(n.role)}, but the inventory's primary is ${JSON.stringify(inv.primary)} and its standby ${JSON.stringify(inv.standby)}: only those two hold the database roles; derive them with withPrimary(inventory, ${JSON.stringify(inv.primary)})`,
      );
  }
  for (const n of inv.nodes) {
    if (net.isIP(n.privateAddress) === 0)
      problems.push(
        `inventory.nodes[${n.name}].privateAddress = ${JSON.stringify(n.privateAddress)} is not an IP address: use the node's private address, e.g. 10.0.0.5`,
      );
    if (net.isIP(n.publicAddress) === 0)
      problems.push(
        `inventory.nodes[${n.name}].publicAddress = ${JSON.stringify(n.publicAddress)} is not an IP address: use the node's public address`,
      );
  }
}

/** Derive and validate the cluster facts; throws one Error listing every problem. Pure. */
export function clusterFacts(ctx: RoleContext): ClusterFacts {
  const problems: string[] = [];
  const inv = ctx.inventory;
  const parent = inv.nodes.find((n) => n.name === inv.primary);
  const standby = inv.nodes.find((n) => n.name === inv.standby);
  inventoryProblems(inv, problems);
  if (!ctx.adminCidrs.length)
    problems.push(`adminCidrs = [] would lock SSH out: pass the stack's django-ha:adminCidrs, e.g. ["203.0.113.7/32"]`);
  for (const c of ctx.adminCidrs) {
    const parsed = parseCidr(c);
    if (!parsed.ok) problems.push(`adminCidrs entry ${JSON.stringify(c)} ${parsed.fix}`);
  }
  const s = ctx.secrets;
  checkSecret("dbPassword", s.dbPassword, problems);
  checkSecret("replicationPassword", s.replicationPassword, problems);
  checkSecret("redisPassword", s.redisPassword, problems);
  checkSecret("djangoSecretKey", s.djangoSecretKey, problems);
  checkSecret("tlsPassphrase", s.tlsPassphrase, problems);
  acmeProblems(ctx, problems);
  healthProblems(ctx, problems);
  if (/[@:/"#\s]/.test(s.redisPassword))
    problems.push(
      "secrets.redisPassword contains '@', ':', '/', '\"', '#' or a space, which break the broker URL or redis.conf: use letters and digits",
    );
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(inv.cluster))
    problems.push(`inventory.cluster = ${JSON.stringify(inv.cluster)} is not a DNS label: use lower-case letters, digits and '-'`);
  if (!/^[a-z0-9.-]+$/.test(inv.recordFqdn))
    problems.push(`inventory.recordFqdn = ${JSON.stringify(inv.recordFqdn)} is not a lower-case domain name`);
  appSecretProblems(ctx, problems);
  if (!ctx.appDir) problems.push("appDir is empty: pass the local directory of the Django project (this repository's app/ by default)");
  if (problems.length || !parent || !standby) {
    throw new Error(
      `Cannot render the node plans (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
  return {
    ctx,
    cluster: inv.cluster,
    fqdn: inv.recordFqdn,
    primaryHostname: inv.primaryHostname,
    parent,
    standby,
    children: inv.nodes.filter((n) => n.role === "child"),
    workers: inv.nodes.filter((n) => n.role === "worker"),
    memberAddresses: [...new Set(inv.nodes.map((n) => n.privateAddress))],
    adminCidrs: [...new Set(ctx.adminCidrs.map(canonicalCidr))],
    sshPort: inv.ssh.port,
  };
}
