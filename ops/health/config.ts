/**
 * The health agent's configuration on a database machine: `/etc/django-ha/health.json` (0600 root), written by the
 * bootstrap from the stack; the DNS credential in `/etc/django-ha/health.env` (`DJANGO_HA_DNS_TSIG_SECRET` or
 * `DIGITALOCEAN_TOKEN`). Validated once at start: a bad file names the key, the value and the fix.
 */
import { z } from "zod";
import { HEALTH_AGENT_LIMITS, HEALTH_DEFAULTS } from "../../model/health";
import { DEFAULT_POLICY } from "./decide";

export const HEALTH_CONFIG_FILE = "/etc/django-ha/health.json";

const ipv4 = z.string().regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/, "must be an IPv4 address such as 10.0.0.21");

export const healthConfigSchema = z.object({
  /** The round-robin record, e.g. www.example.com. */
  fqdn: z.string().min(1),
  ttl: z.number().int().min(1),
  children: z
    .array(z.object({ name: z.string().min(1), address: ipv4, privateAddress: ipv4 }))
    .min(1, "must list the cluster's children (the record's possible members)"),
  dns: z.discriminatedUnion("provider", [
    z.object({
      provider: z.literal("rfc2136"),
      server: z.string().min(1),
      port: z.number().int().min(1).max(65535),
      zone: z.string().min(1),
      keyName: z.string().min(1),
      algorithm: z.string().min(1),
    }),
    z.object({ provider: z.literal("digitalocean"), domain: z.string().min(1) }),
  ]),
  /** The app's health path on every child (200 = healthy). */
  healthPath: z
    .string()
    .regex(/^\/[^\s?#]*$/, "must be a path such as /health/")
    .default("/health/"),
  /** The agent acts only once this file exists (written when the first bootstrap has finished). */
  readyFile: z.string().startsWith("/", "must be an absolute path").optional(),
  /** Seconds between probe rounds. */
  intervalSeconds: z.number().min(0.5).max(60).default(HEALTH_DEFAULTS.intervalSeconds),
  /** Seconds a probe may take before it counts as failed. */
  probeTimeoutSeconds: z.number().min(0.2).max(30).default(HEALTH_DEFAULTS.probeTimeoutSeconds),
  /** Seconds between reads of the record from DNS (the agent trusts its own writes in between). */
  recordRefreshSeconds: z.number().min(1).max(3600).default(HEALTH_AGENT_LIMITS.recordRefreshSeconds),
  failuresToRemove: z.number().int().min(1).max(100).default(DEFAULT_POLICY.failuresToRemove),
  successesToRestore: z.number().int().min(1).max(100).default(DEFAULT_POLICY.successesToRestore),
  maxDnsCallsPerMinute: z.number().int().min(1).max(250).default(DEFAULT_POLICY.maxDnsCallsPerMinute),
});

export type HealthConfig = z.infer<typeof healthConfigSchema>;

/** Parse the config text; every problem in one error with its key, the value and the fix. */
export function parseHealthConfig(text: string, source = HEALTH_CONFIG_FILE): HealthConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source} is not JSON (${(err as Error).message}): run the bootstrap again to rewrite it`);
  }
  const r = healthConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const key = i.path.join(".") || "(top level)";
    const value = i.path.reduce<unknown>(
      (v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k as string] : undefined),
      raw,
    );
    return `  - ${key} = ${JSON.stringify(value)}: ${i.message}`;
  });
  throw new Error(
    `${source} is not a valid health agent configuration:\n${lines.join("\n")}\nRun the bootstrap again to rewrite it from the stack.`,
  );
}
