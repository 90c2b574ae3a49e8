/**
 * From raw stack config to the validated spec, the same way for the offline plan (values read from the
 * stack file's YAML) and for `pulumi up` (values the Pulumi CLI hands the program, all strings). Pure.
 *
 * ONE decoder: a YAML value is first turned into the text the Pulumi CLI would pass for it (strings as
 * they are, numbers and booleans as their text, lists and maps as JSON), then both paths decode that text
 * with the same rule. So `ttl: "30"` and `ttl: 30` give the same spec in the plan and in `pulumi up`.
 */
import { APP_SECRETS_KEY, appSecretIssues } from "./app";
import { ACME_SECRET_KEYS, certificateSecretIssues } from "./certificate";
import { HEALTH_SECRET_KEYS, healthSecretIssues } from "./health";
import { ConfigIssue } from "./errors";
import { PROJECT, stackConfigSchema } from "./schema";
import { parseClusterSpec } from "./parse";
import type { ClusterSpec } from "./spec";

/** Keys read with requireSecret, never part of the validated (plain) spec. */
export const SECRET_KEYS = ["dnsTsigSecret", "sshPrivateKey", ...ACME_SECRET_KEYS, APP_SECRETS_KEY, ...HEALTH_SECRET_KEYS] as const;

/**
 * Config keys (full, `namespace:key`) that hold credentials or keys: ours and the providers'. Written in
 * plain text in a stack file they are refused (see plaintextSecretIssues). aws:accessKey is an id, not a
 * secret (AWS prints it in consoles and logs), so it is not listed.
 */
export const SECRET_CONFIG_KEYS = [
  ...SECRET_KEYS.map((k) => `${PROJECT}:${k}`),
  "digitalocean:token",
  "digitalocean:spacesSecretKey",
  "aws:secretKey",
  "aws:token",
] as const;

const isSecure = (v: unknown) => v !== null && typeof v === "object" && "secure" in (v as object);

/** The text the Pulumi CLI hands a program for a stack-file value. `{secure: …}` stays as it is (the CLI would decrypt it). */
export function pulumiConfigText(value: unknown): unknown {
  if (typeof value === "string" || isSecure(value)) return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** True when the schema (through default/optional wrappers) wants a string or an enum of strings. */
function wantsString(schema: unknown): boolean {
  type Def = { type?: string; innerType?: unknown };
  let def = (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;
  while (def?.innerType) def = (def.innerType as { _zod?: { def?: Def } })._zod?.def;
  return def?.type === "string" || def?.type === "enum";
}

/**
 * Decode config values (full keys) to what the schema expects. Accepts both sources: strings as Pulumi
 * passes them, or typed YAML values (normalised to Pulumi's text first). Keys the schema types as strings
 * stay text (a clusterName "007" stays "007"); everything else is parsed as JSON, and a value that is not
 * JSON is passed on as given, so the schema's message names it. Other namespaces are decoded alike. Pure.
 */
export function decodeStackConfig(all: Record<string, unknown>): Record<string, unknown> {
  const shape = stackConfigSchema.shape as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [fullKey, raw] of Object.entries(all)) {
    const text = pulumiConfigText(raw);
    const [namespace, key] = [fullKey.slice(0, fullKey.indexOf(":")), fullKey.slice(fullKey.indexOf(":") + 1)];
    if (typeof text !== "string" || (namespace === PROJECT && wantsString(shape[key]))) {
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

/** Strip the project prefix from `django-ha:<key>` entries; other namespaces (aws:, digitalocean:) are not ours; secrets left out. */
export function configFromKeys(all: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all)) {
    if (!k.startsWith(`${PROJECT}:`)) continue;
    const key = k.slice(PROJECT.length + 1);
    if ((SECRET_KEYS as readonly string[]).includes(key)) continue;
    if (isSecure(v)) continue;
    out[key] = v;
  }
  return out;
}

/** How a secret is set, for the fix: the command with the stack named, reading the value from a file or the prompt. */
export function setSecretCommand(fullKey: string, stack: string): string {
  const base = `pulumi config set --secret --stack ${stack} ${fullKey}`;
  if (fullKey === `${PROJECT}:${APP_SECRETS_KEY}`) return `${base} '{"NAME": "value", …}'`;
  return fullKey === `${PROJECT}:sshPrivateKey` ? `${base} < ~/.ssh/<deploy key>` : `${base}   (it prompts for the value)`;
}

/**
 * Credentials and keys written in plain text in a stack file. Refused rather than warned about: a token
 * in a committed stack file is already exposed (to the repository and its history), a warning scrolls
 * past in CI, and the fix is one command. The value is never shown. `isSecret(fullKey)` says whether the
 * key was set as a secret (a `secure:` value in the file; Pulumi's secret keys in a running program). Pure.
 */
export function plaintextSecretIssues(all: Record<string, unknown>, isSecret: (fullKey: string) => boolean, stack: string): ConfigIssue[] {
  return SECRET_CONFIG_KEYS.filter((k) => all[k] !== undefined && all[k] !== "" && !isSecret(k)).map((key) => ({
    key,
    value: "(a value in plain text, not shown)",
    fix: `is a secret written in plain text in the stack config; remove it from the stack file, set it encrypted with \`${setSecretCommand(key, stack)}\`, and rotate it: it has been readable by everyone with the file`,
  }));
}

export interface SpecSource {
  /** Where the config came from, for the message (a file, or "stack <name>"). */
  source: string;
  /** The Pulumi stack: provider-side names are derived from the cluster and the stack. */
  stack: string;
  /** Whether a full key was set as a secret. */
  isSecret: (fullKey: string) => boolean;
  /**
   * The running Pulumi program, which reads the DNS-01 secrets itself: their absence is refused with the
   * rest. Outside Pulumi (scripts) they come from the environment instead. Defaults to false.
   */
  program?: boolean;
}

/**
 * The validated spec of a whole stack config (full keys: `django-ha:*`, `aws:*`, …; YAML values or
 * Pulumi's strings). Throws one ConfigError with every problem, plain-text secrets included.
 */
export function specFromConfig(all: Record<string, unknown>, from: SpecSource): ClusterSpec {
  const decoded = decodeStackConfig(all);
  const issues = [
    ...plaintextSecretIssues(all, from.isSecret, from.stack),
    ...(from.program
      ? [
          ...certificateSecretIssues(decoded, from.stack),
          ...programAppSecretIssues(decoded, from.stack),
          ...healthSecretIssues(decoded, from.stack, PROJECT),
        ]
      : []),
  ];
  return parseClusterSpec(configFromKeys(decoded), from.source, { stack: from.stack, issues });
}

/**
 * django-ha:appSecrets against the secret names django-ha:app.secretKeys lists (read from the raw config, so
 * these are reported with the schema's problems). Only the running program has the values.
 */
function programAppSecretIssues(decoded: Record<string, unknown>, stack: string): ConfigIssue[] {
  const app = decoded[`${PROJECT}:app`] as { secretKeys?: unknown } | undefined;
  const names =
    app !== null && typeof app === "object" && Array.isArray(app.secretKeys)
      ? app.secretKeys.filter((k): k is string => typeof k === "string")
      : [];
  return appSecretIssues(decoded[`${PROJECT}:${APP_SECRETS_KEY}`], [...new Set(names)], stack);
}

/** A secure value in a stack file (`key: {secure: …}`). */
export function isSecureValue(value: unknown): boolean {
  return isSecure(value);
}
