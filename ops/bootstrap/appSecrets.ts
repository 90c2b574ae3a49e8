/**
 * The app's secrets (django-ha:app.secretKeys) for a bootstrap outside Pulumi (`npm run bootstrap`, the lab):
 * from DJANGO_HA_APP_SECRETS (the JSON of django-ha:appSecrets), or, where the machine source has no secret
 * config of its own (the lab), generated once into the stack's state directory. The Pulumi program reads the secret config itself (index.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { appSecretIssues, type AppSpec } from "../../model/app";
import { UserError } from "../../model/errors";

/** The JSON object of django-ha:appSecrets, for runs outside Pulumi. */
export const APP_SECRETS_ENV = "DJANGO_HA_APP_SECRETS";
/** Generated app secrets (a source that generates them: the lab), in the stack's state directory (mode 0600). */
export const GENERATED_APP_SECRETS_FILE = "app-secrets.json";

export interface AppSecretSource {
  stack: string;
  app: Pick<AppSpec, "secretKeys">;
  /** The stack's state directory (.django-ha/<stack>/): where generated values live. */
  stateDir: string;
  /** Missing values are generated (and kept) instead of refused: the machine source says so (the lab). Defaults to false. */
  generateMissing?: boolean;
  env?: NodeJS.ProcessEnv;
}

function checked(values: unknown, o: AppSecretSource, from: string): Record<string, string> {
  const issues = appSecretIssues(values, o.app.secretKeys, o.stack);
  if (issues.length)
    throw new UserError(
      `${from} does not match django-ha:app.secretKeys:\n${issues.map((i) => `  - ${i.key} = ${i.value}: ${i.fix}`).join("\n")}`,
    );
  return Object.fromEntries(o.app.secretKeys.map((k) => [k, (values as Record<string, string>)[k]]));
}

function generatedSecrets(o: AppSecretSource): Record<string, string> {
  const file = path.join(o.stateDir, GENERATED_APP_SECRETS_FILE);
  let kept: Record<string, string> = {};
  if (fs.existsSync(file)) {
    try {
      kept = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
      throw new UserError(`${file} is not valid JSON (${(err as Error).message}): move it away to generate the app secrets again`);
    }
  }
  const missing = o.app.secretKeys.filter((k) => typeof kept[k] !== "string" || !kept[k]);
  if (missing.length) {
    for (const k of missing) kept[k] = randomBytes(24).toString("base64url");
    fs.mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(`${file}.new`, `${JSON.stringify(kept, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(`${file}.new`, file);
  }
  return Object.fromEntries(o.app.secretKeys.map((k) => [k, kept[k]]));
}

/** The values of app.secretKeys for a run outside Pulumi; throws a UserError naming the next step. Never prints a value. */
export function appSecretsFor(o: AppSecretSource): Record<string, string> {
  if (!o.app.secretKeys.length) return {};
  const text = (o.env ?? process.env)[APP_SECRETS_ENV];
  if (text) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UserError(
        `${APP_SECRETS_ENV} is not JSON (value not shown): export ${APP_SECRETS_ENV}="$(pulumi config get --stack ${o.stack} django-ha:appSecrets)"`,
      );
    }
    return checked(parsed, o, APP_SECRETS_ENV);
  }
  if (o.generateMissing) return generatedSecrets(o);
  throw new UserError(
    `${APP_SECRETS_ENV} is not set: django-ha:app.secretKeys names ${o.app.secretKeys.join(", ")}; ` +
      `export ${APP_SECRETS_ENV}="$(pulumi config get --stack ${o.stack} django-ha:appSecrets)" and run again`,
  );
}

/** A dry run's app secrets: the real ones when they can be read, else stand-ins (a dry run needs no secret). */
export function dryRunAppSecrets(o: AppSecretSource): Record<string, string> {
  try {
    return appSecretsFor({ ...o, generateMissing: false });
  } catch (err) {
    if (err instanceof UserError) return Object.fromEntries(o.app.secretKeys.map((k) => [k, "notyetset"]));
    throw err;
  }
}
