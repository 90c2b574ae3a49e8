/**
 * Everything a CLI verb needs, loaded once: config, secrets (from the environment, or the env file when a
 * shell runs the agent by hand), the app user, the account key, the CA with its challenge solver.
 */
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import { parseEnv } from "node:util";
import { UserError } from "../../model/errors";
import { DigitalOceanDns } from "../dns/digitalocean";
import { Rfc2136Dns } from "../dns/rfc2136";
import { Route53Dns } from "../dns/route53";
import type { DnsOperations } from "../dns/types";
import { AcmeCa, type ChallengeSolver } from "./acme";
import { agentSecrets, type AgentConfig, type AgentSecrets, parseAgentConfig } from "./config";
import { authoritativeServers } from "./dns01";
import { type Owner, readIfExists } from "./files";
import { decryptKey } from "./keys";
import { loadOrCreateAccountKey, type Log, prepareStore, storePaths } from "./run";
import { dns01Solver, http01Solver } from "./solvers";
import { resolveOwner } from "./system";

/** Variables from an env file (KEY=value lines) for those not already set; the service's EnvironmentFile wins. */
export function loadEnvFile(file: string, env: NodeJS.ProcessEnv): void {
  if (!fs.existsSync(file)) return;
  for (const [k, v] of Object.entries(parseEnv(fs.readFileSync(file, "utf8")))) if (env[k] === undefined) env[k] = v;
}

export function loadConfig(file: string): AgentConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(
      `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): the bootstrap writes it on the database machines; pass --config <file> elsewhere`,
    );
  }
  return parseAgentConfig(text, file);
}

function dnsFor(config: AgentConfig, secrets: AgentSecrets): { dns: DnsOperations; serversFor: (fqdn: string) => Promise<string[]> } {
  const d = config.dns;
  if (!d) throw new Error(`dns-01 needs "dns" in the config: { "provider": "rfc2136" | "digitalocean" | "route53", ... }`);
  switch (d.provider) {
    case "rfc2136":
      return {
        dns: new Rfc2136Dns({
          server: d.server,
          port: d.port,
          zone: d.zone,
          keyName: d.keyName,
          algorithm: d.algorithm,
          secret: secrets.tsigSecret ?? "",
        }),
        serversFor: async () => [`${d.server}:${d.port}`],
      };
    case "digitalocean":
      return {
        dns: new DigitalOceanDns({ domain: d.domain, env: { DIGITALOCEAN_TOKEN: secrets.digitalOceanToken } }),
        serversFor: (f) => authoritativeServers(f),
      };
    case "route53":
      return { dns: new Route53Dns({ hostedZoneId: d.hostedZoneId, waitForSync: true }), serversFor: (f) => authoritativeServers(f) };
    default: {
      const never: never = d;
      throw new Error(`unknown dns provider ${JSON.stringify(never)}`);
    }
  }
}

export function solverFor(
  challenge: "http-01" | "dns-01",
  config: AgentConfig,
  secrets: AgentSecrets,
  owner: Owner | undefined,
): ChallengeSolver {
  if (challenge === "http-01")
    return http01Solver({ webroot: config.webroot, children: config.children, owner, selfCheck: { attempts: 20, intervalMs: 500 } });
  const { dns, serversFor } = dnsFor(config, secrets);
  return dns01Solver({ dns, serversFor, propagation: { timeoutMs: 180_000, intervalMs: 2000 } });
}

export interface AgentContext {
  config: AgentConfig;
  secrets: AgentSecrets;
  owner?: Owner;
  /** The trust store the service hands node (NODE_EXTRA_CA_CERTS: the system bundle), for the served chain's check. */
  trustedRootsPem?: string;
}

export function loadContext(configFile: string, envFile: string, env: NodeJS.ProcessEnv): AgentContext {
  loadEnvFile(envFile, env);
  const config = loadConfig(configFile);
  const secrets = agentSecrets(config, env);
  // Only root can hand files to the app user; a test run as another user keeps its own.
  const owner = process.getuid?.() === 0 ? resolveOwner(config.appUser) : undefined;
  const trustFile = env.NODE_EXTRA_CA_CERTS;
  const trustedRootsPem = trustFile ? readIfExists(trustFile) : undefined;
  return { config, secrets, owner, trustedRootsPem };
}

/**
 * The CA for this context (account key made on first use), answering challenges the configured way or
 * `challenge`. A dry run writes nothing: without a stored account key it uses a throw-away one (it only
 * reads the directory and ARI, which need no account).
 */
export function caFor(ctx: AgentContext, log: Log, challenge: "http-01" | "dns-01" = ctx.config.challenge, dryRun = false): AcmeCa {
  const paths = storePaths(ctx.config.store, ctx.config.certName);
  let accountKeyPem: string;
  if (dryRun) {
    const stored = readIfExists(paths.accountKey);
    accountKeyPem =
      stored === undefined
        ? generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString()
        : decryptKey(stored, ctx.secrets.passphrase, paths.accountKey);
  } else {
    prepareStore(paths, ctx.owner);
    accountKeyPem = loadOrCreateAccountKey(paths, ctx.secrets.passphrase, ctx.owner);
  }
  return new AcmeCa({
    directoryUrl: ctx.config.directoryUrl,
    email: ctx.config.email,
    accountKeyPem,
    solver: solverFor(challenge, ctx.config, ctx.secrets, ctx.owner),
    log,
  });
}
