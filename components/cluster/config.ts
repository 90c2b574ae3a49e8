import { ClusterSpec, configFromKeys, parseClusterSpec, stackConfigSchema } from "../../spec";

/** True when the schema (through default/optional wrappers) wants a string or an enum of strings. */
function wantsString(schema: unknown): boolean {
  let def = (schema as { _zod?: { def?: { type?: string; innerType?: unknown } } } | undefined)?._zod?.def;
  while (def?.innerType) def = (def.innerType as { _zod?: { def?: { type?: string; innerType?: unknown } } })._zod?.def;
  return def?.type === "string" || def?.type === "enum";
}

/**
 * Pulumi hands a program every config value as a string (objects, arrays, numbers and booleans as JSON).
 * Decode each `django-ha:*` value to what the schema expects: strings stay as given (a clusterName "123"
 * stays a string), everything else is parsed as JSON (a value that is not JSON is passed on as given, so
 * the schema's message names it). Pure.
 */
export function decodePulumiConfig(all: Record<string, string>): Record<string, unknown> {
  const shape = stackConfigSchema.shape as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(all)) {
    const key = fullKey.slice(fullKey.indexOf(":") + 1);
    if (wantsString(shape[key])) {
      out[fullKey] = text;
      continue;
    }
    try {
      out[fullKey] = JSON.parse(text);
    } catch {
      out[fullKey] = text;
    }
  }
  return out;
}

/** The validated spec of a running Pulumi program's config (pulumi.runtime.allConfig()). Throws ConfigError. */
export function specFromPulumiConfig(all: Record<string, string>, source = "the stack config"): ClusterSpec {
  return parseClusterSpec(configFromKeys(decodePulumiConfig(all)), source);
}
