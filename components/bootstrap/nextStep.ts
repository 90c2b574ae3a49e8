import type { ProviderName } from "../../model";

/** The config key whose presence makes `pulumi up` run the bootstrap (secret: the text of the private key). */
export const SSH_PRIVATE_KEY = "django-ha:sshPrivateKey";

/**
 * What finishes a new installation when `pulumi up` did not run the bootstrap (no `django-ha:sshPrivateKey`):
 * the exact commands, for the stack output `nextStep`, the end of `pulumi up` and the offline plan. The manual
 * path takes the inventory and the generated secrets from the stack, so a later `pulumi up` with the key
 * renders the same plans and changes nothing. Pure.
 */
export function manualBootstrapSteps(stack: string, provider: ProviderName, appSecretKeys: readonly string[] = []): string {
  const inventoryFile = `${stack}-inventory.json`;
  const lines = [
    `\`pulumi up\` does not bootstrap the machines (no ${SSH_PRIVATE_KEY}): nothing of the site runs on them until that is done. Either`,
    `  let pulumi up do it, now and whenever what the roles render changes:`,
    `    pulumi config set --secret ${SSH_PRIVATE_KEY} --stack ${stack} < ~/.ssh/id_ed25519 && pulumi up --stack ${stack}`,
    `  or run the bootstrap yourself (from this checkout; --identity is the key whose public half is in django-ha:sshPublicKeys):`,
  ];
  if (provider !== "hosts") lines.push(`    pulumi stack output inventory --json --stack ${stack} > ${inventoryFile}`);
  lines.push(
    `    (umask 077 && mkdir -p .django-ha/${stack} && pulumi stack output secrets --json --show-secrets --stack ${stack} > .django-ha/${stack}/secrets.json)`,
    // The app's secrets (django-ha:app.secretKeys) reach the bootstrap through the environment, never a file.
    ...(appSecretKeys.length ? [`    export DJANGO_HA_APP_SECRETS="$(pulumi config get --stack ${stack} django-ha:appSecrets)"`] : []),
    `    npm run bootstrap -- --stack ${stack}${provider === "hosts" ? "" : ` --inventory ${inventoryFile}`} --identity ~/.ssh/id_ed25519`,
  );
  return lines.join("\n");
}

/** The stack output `nextStep` when `pulumi up` ran the bootstrap. Pure. */
export function bootstrappedNextStep(url: string): string {
  return `none: pulumi up bootstrapped every node (it runs again when what the roles render changes). The site: ${url}`;
}
