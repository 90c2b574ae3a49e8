/**
 * Where the operations adapters find their credentials: the environment (and the AWS SDK's shared files).
 * Checked before anything is sent, so a missing credential is one clear UserError naming the variable and
 * how to set it. Values are returned to the adapter that needs them and never printed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UserError } from "../../model/errors";

export { digitalOceanToken, TOKEN_ENV as DIGITALOCEAN_TOKEN_ENV } from "../digitalocean/api";

/** The TSIG secret of a `hosts` stack's DNS server, for RFC 2136 updates from the operator's machine. */
export const TSIG_SECRET_ENV = "DJANGO_HA_TSIG_SECRET";

/** The variables the AWS SDK's default credential chain reads (besides the shared files). */
const AWS_ENV = [
  "AWS_ACCESS_KEY_ID",
  "AWS_PROFILE",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
] as const;

/**
 * Whether the AWS SDK's default chain has somewhere to find credentials: one of its variables, or the shared
 * credentials/config file. Throws a UserError saying how to provide them otherwise. (The SDK itself resolves
 * them at the first call; this only refuses early when there is nothing to resolve.)
 */
export function requireAwsCredentials(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): void {
  if (AWS_ENV.some((k) => env[k])) return;
  const files = [
    env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(home, ".aws", "credentials"),
    env.AWS_CONFIG_FILE ?? path.join(home, ".aws", "config"),
  ];
  if (files.some((f) => fs.existsSync(f))) return;
  throw new UserError(
    `No AWS credentials: set AWS_PROFILE=<profile> (configured with \`aws configure --profile <profile>\` or \`aws sso login\`), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (in CI: repository secrets of those names). Looked for ${AWS_ENV.join(", ")} and ${files.join(", ")}.`,
  );
}

/** The TSIG secret (base64) from DJANGO_HA_TSIG_SECRET, or a UserError saying how to set it for `stack`. */
export function tsigSecret(stack: string, env: NodeJS.ProcessEnv = process.env): string {
  const secret = env[TSIG_SECRET_ENV];
  if (!secret) {
    throw new UserError(
      `${TSIG_SECRET_ENV} is not set: the RFC 2136 updates of stack ${stack} are signed with its TSIG key; export ${TSIG_SECRET_ENV}="$(pulumi config get --stack ${stack} django-ha:dnsTsigSecret)" (the base64 secret the DNS server's key holds).`,
    );
  }
  return secret;
}
