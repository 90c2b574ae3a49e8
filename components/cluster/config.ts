import * as pulumi from "@pulumi/pulumi";
import { ClusterSpec, decodeStackConfig, specFromConfig } from "../../spec";

/**
 * Pulumi hands a program every config value as a string (objects, arrays, numbers and booleans as JSON).
 * Decoded by the one decoder the offline plan uses too (spec/config.ts `decodeStackConfig`). Pure.
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
export function specFromPulumiConfig(all: Record<string, string>, stack: string, isSecret: (fullKey: string) => boolean = configIsSecret): ClusterSpec {
  return specFromConfig(all, { source: `stack ${stack}`, stack, isSecret, program: true });
}
