import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { UserError } from "./errors";
import { ClusterSpec, parseClusterSpec, PROJECT } from "./schema";

/**
 * Keys read with requireSecret, never part of the validated (plain) spec. `sshPrivateKey`: the key the
 * Bootstrap resource logs in with on `pulumi up` (`pulumi config set --secret django-ha:sshPrivateKey < key`).
 */
export const SECRET_KEYS = ["dnsTsigSecret", "sshPrivateKey"] as const;

export const STACKS_DIR = path.resolve(__dirname, "..", "stacks");

export function stackFile(stack: string, dir = STACKS_DIR): string {
  return path.join(dir, `Pulumi.${stack}.yaml`);
}

/** The `django-ha:*` keys of a stack file, prefix removed, secure (encrypted) values and secret keys left out. */
export function readStackConfig(stack: string, dir = STACKS_DIR): Record<string, unknown> {
  const file = stackFile(stack, dir);
  if (!fs.existsSync(file)) {
    const known = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => f.slice(7, -5)) : [];
    throw new UserError(`No stack "${stack}": ${file} does not exist. Known stacks: ${known.join(", ") || "(none)"}.`);
  }
  const doc = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
  return configFromKeys(doc.config ?? {});
}

/** Strip the project prefix from `django-ha:<key>` entries; other namespaces (aws:, digitalocean:) are not ours. */
export function configFromKeys(all: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all)) {
    if (!k.startsWith(`${PROJECT}:`)) continue;
    const key = k.slice(PROJECT.length + 1);
    if ((SECRET_KEYS as readonly string[]).includes(key)) continue;
    if (v && typeof v === "object" && "secure" in (v as object)) continue;
    out[key] = v;
  }
  return out;
}

/** Load and validate a stack file offline (no Pulumi CLI, no credentials). */
export function loadStackSpec(stack: string, dir = STACKS_DIR): ClusterSpec {
  return parseClusterSpec(readStackConfig(stack, dir), path.relative(process.cwd(), stackFile(stack, dir)) || stackFile(stack, dir));
}
