/**
 * What the agent needs from the database machine it runs on (besides the primary check and the lock, which it
 * shares with the ACME agent: ops/acme/system.ts): which certificates to trust, the DNS adapter with the
 * credential from its environment file, the state file `status` reads.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DigitalOceanDns } from "../dns/digitalocean";
import { Rfc2136Dns } from "../dns/rfc2136";
import type { DnsOperations } from "../dns/types";
import type { AgentMemory } from "./run";
import type { HealthConfig } from "./config";

export const STATE_FILE = "/run/django-ha-health/state.json";
export const LOCK_FILE = "/run/django-ha-health.lock";
export const SYSTEM_CA_FILE = "/etc/ssl/certs/ca-certificates.crt";
/** The TSIG secret of the agent's RFC 2136 key (health.env). */
export const TSIG_ENV = "DJANGO_HA_DNS_TSIG_SECRET";

/** The system store and the certificate the cluster serves now (read each round: renewals replace it). */
export function trustedCertificates(fqdn: string, shareTls = "/srv/share/tls"): string[] {
  return [SYSTEM_CA_FILE, path.join(shareTls, fqdn, "fullchain.pem")]
    .filter((f) => fs.existsSync(f))
    .map((f) => fs.readFileSync(f, "utf8"));
}

/** The DNS adapter of the config, credential from the environment (health.env). */
export function dnsOf(config: HealthConfig, env: NodeJS.ProcessEnv = process.env): DnsOperations {
  const names = Object.fromEntries(config.children.map((c) => [c.address, c.name]));
  const d = config.dns;
  switch (d.provider) {
    case "rfc2136": {
      const secret = env[TSIG_ENV];
      if (!secret) throw new Error(`${TSIG_ENV} is not set: the bootstrap writes it to /etc/django-ha/health.env; run the bootstrap again`);
      return new Rfc2136Dns({ server: d.server, port: d.port, zone: d.zone, keyName: d.keyName, algorithm: d.algorithm, secret, names });
    }
    case "digitalocean":
      if (!env.DIGITALOCEAN_TOKEN)
        throw new Error("DIGITALOCEAN_TOKEN is not set: the bootstrap writes it to /etc/django-ha/health.env; run the bootstrap again");
      return new DigitalOceanDns({
        domain: d.domain,
        env,
        nodeAddresses: Object.fromEntries(config.children.map((c) => [c.name, c.address])),
      });
    default: {
      const never: never = d;
      throw new Error(`unknown DNS provider ${JSON.stringify(never)}`);
    }
  }
}

/** What `django-ha-health status` prints: the last round, written after each one (temp file, then rename). */
export function writeState(m: AgentMemory, file = STATE_FILE, now = new Date()): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(
    tmp,
    `${JSON.stringify({ at: now.toISOString(), acting: m.acting, record: m.record, children: m.state.children, lastProbes: m.lastProbes, lastError: m.lastError ?? null }, null, 2)}\n`,
  );
  fs.renameSync(tmp, file);
}
