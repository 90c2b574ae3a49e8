/**
 * The health agent on both database machines (ops/health; docs/health-agent.md): it acts only where PostgreSQL is
 * the primary, so it follows a failover, and it never runs on the children it judges. The bundled program (as
 * data), its wrapper, config, DNS credential and a long-running unit. Not installed on aws: Route 53's health
 * checks do the job there.
 */
import { HEALTH_AGENT_LIMITS, type HealthSpec } from "../model";
import { recordMembers } from "../model/topology";
import { file, FileAction, started } from "./actions";
import { ACME_PATHS, SYSTEM_CA_BUNDLE } from "./acme";
import type { ClusterFacts } from "./context";
import { renderUnit, unitPath, UnitFile } from "./files/systemd";
import type { Action } from "./types";

export const HEALTH_PATHS = {
  agent: "/usr/local/lib/django-ha/health-agent.js",
  wrapper: "/usr/local/sbin/django-ha-health",
  config: "/etc/django-ha/health.json",
  env: "/etc/django-ha/health.env",
} as const;
export const HEALTH_SERVICE = "django-ha-health.service";

/** The health agent's part of the role context: the validated section, the program, the DNS credential. */
export interface HealthContext {
  spec: HealthSpec;
  /** One CommonJS file (ops/health/bundle.ts bundleHealthAgent()). Empty when the agent is off. */
  agentSource: string;
  /** rfc2136 → the TSIG secret (of health.dnsKeyName, else the record's key); digitalocean → a token scoped to domain read/update. */
  dnsSecret?: string;
}

export type HealthDnsConfig =
  | { provider: "rfc2136"; server: string; port: number; zone: string; keyName: string; algorithm: string }
  | { provider: "digitalocean"; domain: string };

/** /etc/django-ha/health.json as the agent reads it (ops/health/config.ts). */
export interface HealthAgentConfig {
  fqdn: string;
  ttl: number;
  children: { name: string; address: string; privateAddress: string }[];
  dns: HealthDnsConfig;
  healthPath: string;
  readyFile: string;
  intervalSeconds: number;
  probeTimeoutSeconds: number;
  recordRefreshSeconds: number;
  failuresToRemove: number;
  successesToRestore: number;
  maxDnsCallsPerMinute: number;
}

/** health.json of the cluster, the same on both database machines; undefined where the agent does not run. Pure. */
export function healthAgentConfig(f: ClusterFacts): HealthAgentConfig | undefined {
  const h = f.ctx.health.spec;
  const inv = f.ctx.inventory;
  if (!h.enabled) return undefined;
  let dns: HealthDnsConfig;
  switch (inv.dns.kind) {
    case "rfc2136":
      dns = {
        provider: "rfc2136",
        server: inv.dns.server,
        port: inv.dns.port,
        zone: inv.dns.zone,
        keyName: h.dnsKeyName ?? inv.dns.keyName,
        algorithm: inv.dns.algorithm,
      };
      break;
    case "digitalocean":
      dns = { provider: "digitalocean", domain: inv.dns.domain };
      break;
    case "route53":
      return undefined;
    default: {
      const never: never = inv.dns;
      throw new Error(`unknown DNS target ${JSON.stringify(never)}`);
    }
  }
  return {
    fqdn: f.fqdn,
    ttl: inv.ttl,
    children: recordMembers(inv).map((c) => ({ name: c.name, address: c.publicAddress, privateAddress: c.privateAddress })),
    dns,
    healthPath: f.ctx.app.healthPath,
    // The same marker lets the certificate agent's timer act: every node converged once.
    readyFile: ACME_PATHS.ready,
    intervalSeconds: h.intervalSeconds,
    probeTimeoutSeconds: h.probeTimeoutSeconds,
    recordRefreshSeconds: HEALTH_AGENT_LIMITS.recordRefreshSeconds,
    failuresToRemove: h.failuresToRemove,
    successesToRestore: h.successesToRestore,
    maxDnsCallsPerMinute: HEALTH_AGENT_LIMITS.maxDnsCallsPerMinute,
  };
}

/** health.env: the DNS credential, root only. Pure. */
export function renderHealthEnv(config: HealthAgentConfig, secret: string): string {
  const line = config.dns.provider === "rfc2136" ? `DJANGO_HA_DNS_TSIG_SECRET=${secret}` : `DIGITALOCEAN_TOKEN=${secret}`;
  return `# django-ha: the health agent's DNS credential (${HEALTH_SERVICE}); root only\n${line}\n`;
}

export function renderHealthWrapper(): string {
  return `#!/usr/bin/env bash
# django-ha: the health agent (run, status; --help). Bundled by ops/health/bundle.ts.
set -euo pipefail
exec /usr/bin/node ${HEALTH_PATHS.agent} "$@"
`;
}

export function healthUnit(): UnitFile {
  return {
    name: HEALTH_SERVICE,
    sections: [
      [
        "Unit",
        [
          ["Description", "django-ha: keep the round-robin record to the children that answer (acts only on the PostgreSQL primary)"],
          ["Wants", "network-online.target"],
          ["After", "network-online.target postgresql.service"],
        ],
      ],
      [
        "Service",
        [
          ["Type", "simple"],
          ["EnvironmentFile", HEALTH_PATHS.env],
          ["Environment", `NODE_EXTRA_CA_CERTS=${SYSTEM_CA_BUNDLE}`],
          ["ExecStart", `${HEALTH_PATHS.wrapper} run`],
          ["Restart", "always"],
          ["RestartSec", 5],
          ["RuntimeDirectory", "django-ha-health"],
          ["RuntimeDirectoryPreserve", "yes"],
        ],
      ],
      ["Install", [["WantedBy", "multi-user.target"]]],
    ],
  };
}

/** Everything the agent needs on a database machine, primary or standby (so it follows a failover). */
export function healthAgentActions(f: ClusterFacts): Action[] {
  const config = healthAgentConfig(f);
  if (!config) return [];
  const unit = healthUnit();
  const unitFile: FileAction = file(unitPath(unit.name), renderUnit(unit));
  const files = [
    file(HEALTH_PATHS.agent, f.ctx.health.agentSource),
    file(HEALTH_PATHS.wrapper, renderHealthWrapper(), "0755"),
    file(HEALTH_PATHS.config, `${JSON.stringify(config, null, 2)}\n`, "0600"),
    file(HEALTH_PATHS.env, renderHealthEnv(config, f.ctx.health.dnsSecret ?? ""), "0600"),
  ];
  return [
    ...files,
    unitFile,
    started(
      HEALTH_SERVICE,
      [...files, unitFile].map((a) => a.file.path),
    ),
  ];
}
