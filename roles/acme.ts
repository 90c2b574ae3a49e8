/**
 * The certificate's renewal agent on both database machines (it acts only where PostgreSQL is the primary,
 * so it follows a failover): node, the bundled agent (ops/acme, as data), its wrapper, config, secrets and
 * timer. Paths and units are the shared contract of issue 10 (docs/certificates.md).
 */
import type { DnsTarget } from "../model";
import { file, FileAction, started } from "./actions";
import { APP_USER, ClusterFacts, PATHS } from "./context";
import { renderUnit, unitPath, UnitFile } from "./files/systemd";
import type { Action } from "./types";

export const ACME_PATHS = {
  agent: "/usr/local/lib/django-ha/acme-agent.js",
  wrapper: "/usr/local/sbin/django-ha-acme",
  config: "/etc/django-ha/acme.json",
  env: "/etc/django-ha/acme.env",
  lock: "/run/django-ha-acme.lock",
  /**
   * Written by the bootstrap's certificate phase once every node converged (on the primary's share, so the
   * standby's replica has it too). Until then the timer's runs are skipped: an order placed while the
   * children are not serving the webroot yet would fail and start the backoff before the first certificate.
   */
  ready: "/srv/share/.django-ha-acme-ready",
} as const;
export const ACME_SERVICE = "django-ha-acme.service";
export const ACME_TIMER = "django-ha-acme.timer";
/** The system trust store node's TLS uses in addition to its own (the CA's directory, the lab's pebble root). */
export const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/** The `dns` block of acme.json: where DNS-01 writes its TXT records (the record's DNS target). */
export type AcmeDnsConfig =
  | { provider: "rfc2136"; server: string; port: number; zone: string; keyName: string; algorithm: string }
  | { provider: "digitalocean"; domain: string }
  | { provider: "route53"; hostedZoneId: string };

/** /etc/django-ha/acme.json as the agent reads it (ops/acme/config.ts). */
export interface AcmeAgentConfig {
  directoryUrl: string;
  email: string;
  certName: string;
  names: string[];
  challenge: "http-01" | "dns-01";
  profile?: string;
  webroot: string;
  store: string;
  children: { name: string; address: string }[];
  dns?: AcmeDnsConfig;
  checkEverySeconds: number;
  backoff: { baseSeconds: number; capSeconds: number };
  appUser: string;
}

/** The DNS-01 target of the record's DNS, with the narrower TSIG key when the stack names one. Pure. */
export function acmeDnsConfig(dns: DnsTarget, dnsKeyName: string | undefined): AcmeDnsConfig {
  switch (dns.kind) {
    case "rfc2136":
      return {
        provider: "rfc2136",
        server: dns.server,
        port: dns.port,
        zone: dns.zone,
        keyName: dnsKeyName ?? dns.keyName,
        algorithm: dns.algorithm,
      };
    case "digitalocean":
      return { provider: "digitalocean", domain: dns.domain };
    case "route53":
      return { provider: "route53", hostedZoneId: dns.hostedZoneId };
    default: {
      const never: never = dns;
      throw new Error(`unknown DNS target ${JSON.stringify(never)}`);
    }
  }
}

/** acme.json of the cluster: the same on both database machines. Pure. */
export function acmeAgentConfig(f: ClusterFacts): AcmeAgentConfig {
  const inv = f.ctx.inventory;
  const cert = f.ctx.acme.certificate;
  return {
    directoryUrl: inv.acme.directoryUrl,
    email: inv.acme.email,
    certName: f.fqdn,
    names: cert.names,
    challenge: cert.challenge,
    ...(cert.profile !== undefined ? { profile: cert.profile } : {}),
    webroot: PATHS.acme,
    store: PATHS.tls,
    children: f.children.map((c) => ({ name: c.name, address: c.privateAddress })),
    ...(cert.challenge === "dns-01" ? { dns: acmeDnsConfig(inv.dns, cert.dnsKeyName) } : {}),
    checkEverySeconds: cert.checkEverySeconds,
    backoff: { ...cert.backoff },
    appUser: `${APP_USER.uid}:${APP_USER.gid}`,
  };
}

/** acme.env: the passphrase of the keys on the share always; the DNS-01 credential of the provider. Pure. */
export function renderAcmeEnv(f: ClusterFacts): string {
  const lines = [`DJANGO_HA_TLS_PASSPHRASE=${f.ctx.secrets.tlsPassphrase}`];
  const dns = acmeAgentConfig(f).dns;
  if (dns?.provider === "rfc2136") lines.push(`DJANGO_HA_DNS_TSIG_SECRET=${f.ctx.acme.dnsSecret ?? ""}`);
  if (dns?.provider === "digitalocean") lines.push(`DIGITALOCEAN_TOKEN=${f.ctx.acme.dnsSecret ?? ""}`);
  return `# django-ha: secrets of the renewal agent (${ACME_SERVICE}); root only\n${lines.join("\n")}\n`;
}

export function renderAcmeWrapper(): string {
  return `#!/usr/bin/env bash
# django-ha: the certificate renewal agent (run, status, renew --force, revoke; --help). Bundled by ops/acme/bundle.ts.
set -euo pipefail
exec /usr/bin/node ${ACME_PATHS.agent} "$@"
`;
}

export function acmeUnits(checkEverySeconds: number): UnitFile[] {
  return [
    {
      name: ACME_SERVICE,
      sections: [
        [
          "Unit",
          [
            ["Description", "django-ha: order or renew the cluster's certificate (acts only on the PostgreSQL primary)"],
            ["Wants", "network-online.target"],
            ["After", "network-online.target"],
          ],
        ],
        [
          "Service",
          [
            ["Type", "oneshot"],
            ["ExecCondition", `/usr/bin/test -e ${ACME_PATHS.ready}`],
            ["EnvironmentFile", ACME_PATHS.env],
            ["Environment", `NODE_EXTRA_CA_CERTS=${SYSTEM_CA_BUNDLE}`],
            ["ExecStart", `${ACME_PATHS.wrapper} run`],
            ["TimeoutStartSec", 900],
          ],
        ],
      ],
    },
    {
      name: ACME_TIMER,
      sections: [
        ["Unit", [["Description", `django-ha: check the certificate every ${checkEverySeconds} s`]]],
        [
          "Timer",
          [
            ["OnBootSec", "30s"],
            ["OnUnitInactiveSec", `${checkEverySeconds}s`],
            ["AccuracySec", "1s"],
          ],
        ],
        ["Install", [["WantedBy", "timers.target"]]],
      ],
    },
  ];
}

/** Everything the agent needs on a database machine, primary or standby (so it can follow a failover). */
export function acmeAgentActions(f: ClusterFacts): Action[] {
  const units = acmeUnits(f.ctx.acme.certificate.checkEverySeconds);
  const unitFiles: FileAction[] = units.map((u) => file(unitPath(u.name), renderUnit(u)));
  return [
    file(ACME_PATHS.agent, f.ctx.acme.agentSource),
    file(ACME_PATHS.wrapper, renderAcmeWrapper(), "0755"),
    file(ACME_PATHS.config, `${JSON.stringify(acmeAgentConfig(f), null, 2)}\n`, "0600"),
    file(ACME_PATHS.env, renderAcmeEnv(f), "0600"),
    ...unitFiles,
    started(
      ACME_TIMER,
      unitFiles.map((u) => u.file.path),
    ),
  ];
}
