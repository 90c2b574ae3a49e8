import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { UserError } from "./errors";
import { configFromKeys, decodeStackConfig, isSecureValue, specFromConfig } from "./config";
import type { ClusterSpec } from "./spec";

export const STACKS_DIR = path.resolve(__dirname, "..", "stacks");

export function stackFile(stack: string, dir = STACKS_DIR): string {
  return path.join(dir, `Pulumi.${stack}.yaml`);
}

/** The whole `config:` map of a stack file (every namespace, values as YAML gives them). */
export function readStackFile(stack: string, dir = STACKS_DIR): Record<string, unknown> {
  const file = stackFile(stack, dir);
  if (!fs.existsSync(file)) {
    const known = fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
          .map((f) => f.slice(7, -5))
      : [];
    throw new UserError(`No stack "${stack}": ${file} does not exist. Known stacks: ${known.join(", ") || "(none)"}.`);
  }
  const doc = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
  return (doc.config ?? {}) as Record<string, unknown>;
}

/** The `django-ha:*` keys of a stack file, decoded as `pulumi up` decodes them, prefix removed, secure values and secret keys left out. */
export function readStackConfig(stack: string, dir = STACKS_DIR): Record<string, unknown> {
  return configFromKeys(decodeStackConfig(readStackFile(stack, dir)));
}

/** Load and validate a stack file offline (no Pulumi CLI, no credentials): the same decoding and checks as `pulumi up`. */
export function loadStackSpec(stack: string, dir = STACKS_DIR): ClusterSpec {
  const all = readStackFile(stack, dir);
  const file = stackFile(stack, dir);
  return specFromConfig(all, { source: path.relative(process.cwd(), file) || file, stack, isSecret: (k) => isSecureValue(all[k]) });
}
