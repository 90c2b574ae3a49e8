/**
 * The health agent's section of the stack config (django-ha:health): a child that stops answering leaves the
 * round-robin record on the targets without DNS health checks (hosts/RFC 2136, DigitalOcean); on aws Route 53's
 * health checks do it (docs/health-agent.md compares the two). Pure.
 */
import { z } from "zod";
import type { ConfigIssue } from "./errors";
import type { ProviderName } from "./schema";

/** Seconds and counts of a round: the stack's defaults and the agent's own (ops/health). */
export const HEALTH_DEFAULTS = { intervalSeconds: 2, probeTimeoutSeconds: 2, failuresToRemove: 3, successesToRestore: 2 } as const;
/**
 * The agent's fixed limits: DNS calls in any 60 s, reads included (DigitalOcean allows 250 per minute per
 * token), and how often it reads the record again (between reads it trusts its own writes).
 */
export const HEALTH_AGENT_LIMITS = { maxDnsCallsPerMinute: 12, recordRefreshSeconds: 30 } as const;

export const healthSchema = z
  .object({
    /** Default: on for hosts and digitalocean; aws keeps Route 53's health checks. */
    enabled: z.boolean().optional(),
    intervalSeconds: z
      .number()
      .min(0.5, "must be at least 0.5 s")
      .max(60, "must be at most 60 s: a dead child would stay in the record for minutes")
      .default(HEALTH_DEFAULTS.intervalSeconds),
    probeTimeoutSeconds: z
      .number()
      .min(0.2, "must be at least 0.2 s")
      .max(30, "must be at most 30 s")
      .default(HEALTH_DEFAULTS.probeTimeoutSeconds),
    failuresToRemove: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(20, "must be at most 20")
      .default(HEALTH_DEFAULTS.failuresToRemove),
    successesToRestore: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(20, "must be at most 20")
      .default(HEALTH_DEFAULTS.successesToRestore),
    /** hosts: a TSIG key allowed to change only the record's A records. Defaults to dns.tsigKeyName. */
    dnsKeyName: z.string().min(1, "must be the name of a TSIG key on the DNS server, e.g. shop-health").optional(),
  })
  .strict()
  .default({ ...HEALTH_DEFAULTS });

export type HealthConfigInput = z.infer<typeof healthSchema>;

/** The validated health section: `enabled` says whether the agent runs on the database machines. */
export interface HealthSpec {
  enabled: boolean;
  intervalSeconds: number;
  probeTimeoutSeconds: number;
  failuresToRemove: number;
  successesToRestore: number;
  /** hosts: the narrower TSIG key for the record's A records. Defaults to the record's key. */
  dnsKeyName?: string;
}

type Add = (path: PropertyKey[], fix: string) => void;

/** The validated section, with every cross-key problem reported through `add`. */
export function healthSpec(provider: ProviderName, h: HealthConfigInput, add: Add): HealthSpec {
  if (provider === "aws" && h.enabled === true) {
    add(
      ["health", "enabled"],
      "is for hosts and digitalocean: on aws the record's Route 53 health checks take a dead child out (docs/health-agent.md compares them); remove it",
    );
  }
  if (h.dnsKeyName !== undefined && provider !== "hosts") {
    add(
      ["health", "dnsKeyName"],
      `is only for provider hosts (RFC 2136 with TSIG); ${provider === "digitalocean" ? "on digitalocean set the secret django-ha:healthDnsToken instead" : "on aws Route 53's health checks need no key"}; remove it`,
    );
  }
  if (h.probeTimeoutSeconds > h.intervalSeconds * 5) {
    add(
      ["health", "probeTimeoutSeconds"],
      `is more than 5 rounds (intervalSeconds ${h.intervalSeconds}); a probe that waits longer than the rounds it spans delays every decision; use at most ${h.intervalSeconds * 5}`,
    );
  }
  return {
    enabled: h.enabled ?? provider !== "aws",
    intervalSeconds: h.intervalSeconds,
    probeTimeoutSeconds: h.probeTimeoutSeconds,
    failuresToRemove: h.failuresToRemove,
    successesToRestore: h.successesToRestore,
    ...(h.dnsKeyName !== undefined ? { dnsKeyName: h.dnsKeyName } : {}),
  };
}

/** The secret keys of the agent's DNS credential (set with `pulumi config set --secret`). */
export const HEALTH_SECRET_KEYS = ["healthTsigSecret", "healthDnsToken"] as const;
export type HealthSecretKey = (typeof HEALTH_SECRET_KEYS)[number] | "dnsTsigSecret";

/** Which secret config key holds the agent's DNS credential, or undefined when it does not run. Pure. */
export function healthDnsSecretKey(spec: { provider: ProviderName; health: HealthSpec }): HealthSecretKey | undefined {
  if (!spec.health.enabled) return undefined;
  switch (spec.provider) {
    case "hosts":
      return spec.health.dnsKeyName ? "healthTsigSecret" : "dnsTsigSecret";
    case "digitalocean":
      return "healthDnsToken";
    case "aws":
      return undefined;
    default: {
      const never: never = spec.provider;
      throw new Error(`unknown provider ${String(never)}`);
    }
  }
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The agent's credential a running Pulumi program needs and does not have (`all`: full keys). DigitalOcean needs
 * its own token (the provider's token could change anything in the account); hosts with health.dnsKeyName that
 * key's secret. Pure.
 */
export function healthSecretIssues(all: Record<string, unknown>, stack: string, project: string): ConfigIssue[] {
  const get = (k: string) => all[`${project}:${k}`];
  const raw = get("health");
  const health: Record<string, unknown> = isMap(raw) ? raw : {};
  if (health.enabled === false || get("provider") === "aws") return [];
  const missing = (k: string) => get(k) === undefined || get(k) === "";
  if (get("provider") === "digitalocean" && missing("healthDnsToken")) {
    return [
      {
        key: `${project}:healthDnsToken`,
        value: "(not set)",
        fix: `is required on digitalocean: the health agent takes a dead child out of the record with a DigitalOcean API token of its own, scoped to domain read and update only (Custom Scopes: domain:read, domain:update), kept only on the database machines; set it with \`pulumi config set --secret --stack ${stack} ${project}:healthDnsToken\`, or turn the agent off with django-ha:health.enabled false`,
      },
    ];
  }
  if (get("provider") === "hosts" && typeof health.dnsKeyName === "string" && missing("healthTsigSecret")) {
    return [
      {
        key: `${project}:healthTsigSecret`,
        value: "(not set)",
        fix: `is required with django-ha:health.dnsKeyName (${String(health.dnsKeyName)}): that TSIG key's base64 secret; set it with \`pulumi config set --secret --stack ${stack} ${project}:healthTsigSecret\``,
      },
    ];
  }
  return [];
}
