import { renderNftables } from "../roles/files/nftables";
import { POSTGRES_MAJOR } from "../model/debian";
import { LAB_NET, PEBBLE_PORTS, TSIG_ALGORITHM } from "./config";

/** A machine the lab boots: a cluster node or lab infrastructure (the DNS node, the ACME CA). */
export interface LabMachine {
  name: string;
  address: string;
  /** Cluster role, or "dns" for the lab's DNS server, "acme" for its ACME CA (pebble). */
  kind: "parent" | "standby" | "child" | "worker" | "dns" | "acme";
}

/** Lab infrastructure, not a cluster node: booted first, never bootstrapped, replaced or listed in the inventory. */
export const isInfrastructure = (m: Pick<LabMachine, "kind">): boolean => m.kind === "dns" || m.kind === "acme";

/** /etc/hosts of a node: loopback, itself, and every lab machine by short and lab-zone name. Pure. */
export function renderHosts(self: LabMachine, all: readonly LabMachine[], zone: string): string {
  const lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", ""];
  lines.push("# lab machines (written by django-ha lab)");
  for (const m of all) lines.push(`${m.address}\t${m.name}.${zone} ${m.name}`);
  if (!all.some((m) => m.name === self.name)) lines.push(`${self.address}\t${self.name}.${zone} ${self.name}`);
  return lines.join("\n") + "\n";
}

/** Every node resolves through the lab's DNS server only. Pure. */
export function renderResolvConf(zone: string, server: string = LAB_NET.dnsAddress): string {
  return `# written by django-ha lab\nnameserver ${server}\nsearch ${zone}\noptions timeout:1 attempts:2\n`;
}

/** sshd drop-in: root by key only. Pure. */
export function renderSshdConfig(): string {
  return [
    "# written by django-ha lab: root login by the lab's key only",
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UseDNS no",
    "",
  ].join("\n");
}

/** A TSIG key in BIND's (and nsupdate -k's) key-file syntax. Pure. */
export function renderTsigKey(name: string, secret: string, algorithm: string = TSIG_ALGORITHM): string {
  return `key "${name}" {\n\talgorithm ${algorithm};\n\tsecret "${secret}";\n};\n`;
}

export interface ZoneInput {
  zone: string;
  /** Name of the zone's name server (a machine in `machines`). */
  nameServer: string;
  machines: readonly LabMachine[];
  /** TTL of the zone's records. */
  ttl: number;
  serial: number;
  /** More A records (e.g. acme → the ACME CA). Defaults to none. */
  aliases?: readonly { label: string; address: string }[];
}

/** The lab zone at creation: SOA, NS and one A record per machine. The round-robin record comes by RFC 2136. Pure. */
export function renderZone(z: ZoneInput): string {
  const lines = [
    `$ORIGIN ${z.zone}.`,
    `$TTL ${z.ttl}`,
    `@\tIN SOA ${z.nameServer}.${z.zone}. hostmaster.${z.zone}. ( ${z.serial} 3600 600 86400 ${z.ttl} )`,
    `@\tIN NS ${z.nameServer}.${z.zone}.`,
  ];
  for (const m of z.machines) lines.push(`${m.name}\tIN A ${m.address}`);
  for (const a of z.aliases ?? []) lines.push(`${a.label}\tIN A ${a.address}`);
  return lines.join("\n") + "\n";
}

/** named.conf.options: authoritative only, no recursion, IPv4 on the lab network. Pure. */
export function renderNamedOptions(): string {
  return [
    "// written by django-ha lab: authoritative only",
    "options {",
    '\tdirectory "/var/cache/bind";',
    "\tlisten-on { any; };",
    "\tlisten-on-v6 { none; };",
    "\trecursion no;",
    "\tallow-query { any; };",
    "\tallow-transfer { none; };",
    "\tdnssec-validation no;",
    "\tnotify no;",
    "};",
    "",
  ].join("\n");
}

/**
 * The DNS node's own firewall (nftables, the roles' renderer): DNS from anywhere, SSH only from the lab host
 * (the operator's machine, the lab stacks' adminCidrs), nothing else — like a real authoritative server. Pure.
 */
export function renderDnsNodeFirewall(adminAddress: string = LAB_NET.hostAddress): string {
  return renderNftables({
    rules: [
      { comment: "ssh from the lab host only", protocol: "tcp", ports: [22], from: [`${adminAddress}/32`] },
      { comment: "dns", protocol: "tcp", ports: [53], from: "any" },
      { comment: "dns", protocol: "udp", ports: [53], from: "any" },
    ],
  });
}

/**
 * The owner names a DNS-01 key may write: `_acme-challenge.<name>` for each name (a wildcard's without its `*.`)
 * inside the zone, unique and sorted. Pure.
 */
export function acmeChallengeNames(zone: string, names: readonly string[]): string[] {
  const bare = names.map((n) => n.replace(/^\*\./, "").replace(/\.$/, "").toLowerCase());
  return [...new Set(bare.filter((n) => n === zone || n.endsWith(`.${zone}`)).map((n) => `_acme-challenge.${n}`))].sort();
}

export interface NamedLocalInput {
  zone: string;
  zoneFile: string;
  /** BIND key files to include (one key each). */
  keyFiles: readonly string[];
  /** The key that may change any record of the zone (the round-robin record's RFC 2136 updates). */
  updateKey: string;
  /** The key that may change only TXT records at these owner names (acmeChallengeNames). */
  acme: { key: string; challengeNames: readonly string[] };
  /** The key that may change only A records at these names (the health agent's, at the record). */
  health: { key: string; recordNames: readonly string[] };
}

/**
 * named.conf.local: the lab zone, updatable only with the TSIG keys — the update key anywhere, the ACME key only
 * TXT at the `_acme-challenge` names, the health key only A at the record (BIND's wildcard rule cannot say "_acme-challenge.*", so each name is listed). Pure.
 */
export function renderNamedLocal(n: NamedLocalInput): string {
  return [
    "// written by django-ha lab: RFC 2136 updates signed with the lab's TSIG keys only",
    ...n.keyFiles.map((f) => `include "${f}";`),
    `zone "${n.zone}" {`,
    "\ttype primary;",
    `\tfile "${n.zoneFile}";`,
    "\tupdate-policy {",
    `\t\tgrant ${n.updateKey} zonesub ANY;`,
    ...n.acme.challengeNames.map((name) => `\t\tgrant ${n.acme.key} name ${name}. TXT;`),
    ...n.health.recordNames.map((name) => `\t\tgrant ${n.health.key} name ${name}. A;`),
    "\t};",
    "};",
    "",
  ].join("\n");
}

/**
 * The ACME CA node's firewall: the ACME API from anywhere on the lab network (nodes order, visitors may look), the
 * management port (roots, revocation status) and SSH from the lab host only. Pure.
 */
export function renderAcmeNodeFirewall(adminAddress: string = LAB_NET.hostAddress): string {
  return renderNftables({
    rules: [
      { comment: "ssh from the lab host only", protocol: "tcp", ports: [22], from: [`${adminAddress}/32`] },
      { comment: "acme api", protocol: "tcp", ports: [PEBBLE_PORTS.acme], from: "any" },
      {
        comment: "pebble management from the lab host only",
        protocol: "tcp",
        ports: [PEBBLE_PORTS.management],
        from: [`${adminAddress}/32`],
      },
    ],
  });
}

/**
 * Services the image's packages start by default, and the packages a machine must carry to keep them:
 * rpcbind comes in as a dependency of the NFS packages and would otherwise answer on port 111 everywhere.
 */
export const PACKAGE_SERVICES: readonly { units: readonly string[]; keptBy: readonly string[] }[] = [
  { units: ["postgresql.service"], keptBy: [`postgresql-${POSTGRES_MAJOR}`] },
  { units: ["nginx.service"], keptBy: ["nginx"] },
  { units: ["redis-server.service"], keptBy: ["redis-server"] },
  // Kept by no package: with Debian's default ganesha.conf the daemon exits with status 2 at boot (4 of 4 boots of
  // an image node), which left a bare database node "degraded" at random. A real machine has no ganesha until the
  // bootstrap installs and configures it; the roles enable it on the primary (started) and keep it off on the standby.
  { units: ["nfs-ganesha.service"], keptBy: [] },
  { units: ["lsyncd.service"], keptBy: ["lsyncd"] },
  { units: ["uwsgi.service"], keptBy: ["uwsgi"] },
  { units: ["named.service"], keptBy: ["bind9"] },
  { units: ["rpcbind.service", "rpcbind.socket"], keptBy: ["nfs-common", "nfs-ganesha"] },
];

/**
 * Units to disable on a node: the image carries every package, but a real machine of this kind would only
 * have its own (`wanted`), so the others' services stay off. Pure.
 */
export function servicesToDisable(wanted: readonly string[]): string[] {
  return PACKAGE_SERVICES.filter((s) => !s.keptBy.some((p) => wanted.includes(p)))
    .flatMap((s) => s.units)
    .sort();
}
