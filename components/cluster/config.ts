import * as pulumi from "@pulumi/pulumi";
import { ClusterSpec, decodeStackConfig, specFromConfig } from "../../model";

/**
 * The secret config key that holds the renewal agent's DNS-01 credential, or undefined when it needs none
 * (http-01; Route 53, where the database machines' instance role is the credential). Pure.
 */
export function acmeDnsSecretKey(
  spec: Pick<ClusterSpec, "provider" | "certificate">,
): "acmeTsigSecret" | "dnsTsigSecret" | "acmeDnsToken" | undefined {
  if (spec.certificate.challenge !== "dns-01") return undefined;
  switch (spec.provider) {
    case "hosts":
      return spec.certificate.dnsKeyName ? "acmeTsigSecret" : "dnsTsigSecret";
    case "digitalocean":
      return "acmeDnsToken";
    case "aws":
      return undefined;
    default: {
      const never: never = spec.provider;
      throw new Error(`unknown provider ${String(never)}`);
    }
  }
}

/**
 * Pulumi hands a program every config value as a string (objects, arrays, numbers and booleans as JSON).
 * Decoded by the one decoder the offline plan uses too (model/config.ts `decodeStackConfig`). Pure.
 */
export function decodePulumiConfig(all: Record<string, string>): Record<string, unknown> {
  return decodeStackConfig(all);
}

/**
 * Whether the running program got `fullKey` as a secret. The Pulumi SDK knows (the CLI passes the secret
 * keys along with the config) but keeps the function internal; without it nothing counts as plain text.
 */
function configIsSecret(fullKey: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  return runtime.isConfigSecret ? runtime.isConfigSecret(fullKey) : true;
}

/**
 * The validated spec of a running Pulumi program's config (pulumi.runtime.allConfig()) for `stack`
 * (pulumi.getStack()). Throws ConfigError, before any resource registers.
 */
export function specFromPulumiConfig(
  all: Record<string, string>,
  stack: string,
  isSecret: (fullKey: string) => boolean = configIsSecret,
): ClusterSpec {
  return specFromConfig(all, { source: `stack ${stack}`, stack, isSecret, program: true });
}
