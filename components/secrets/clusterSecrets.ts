import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ClusterSecrets as ClusterSecretValues } from "../../roles/types";

/** Args of {@link ClusterSecrets}. */
export interface ClusterSecretsArgs {
  /** Length of the generated passwords. Defaults to 32 (Django's secret key: 64). */
  length?: number;
}

/**
 * The cluster's generated secrets (DB, replication, Redis passwords, Django's SECRET_KEY and the passphrase
 * that encrypts the certificate's and the ACME account's keys on the share), made with
 * @pulumi/random so they are encrypted in state and stay stable across updates. Letters and digits only:
 * they go into connection strings and config files unquoted.
 */
export class ClusterSecrets extends pulumi.ComponentResource {
  /** All five, as one secret output. */
  public readonly values: pulumi.Output<ClusterSecretValues>;

  constructor(name: string, args: ClusterSecretsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("django-ha:secrets:ClusterSecrets", name, {}, opts);
    const length = args.length ?? 32;
    const password = (suffix: string, len = length) =>
      new random.RandomPassword(`${name}-${suffix}`, { length: len, special: false }, { parent: this }).result;
    const generated = [
      password("db-password"),
      password("replication-password"),
      password("redis-password"),
      password("django-secret-key", Math.max(64, length)),
      password("tls-passphrase", Math.max(48, length)),
    ];
    this.values = pulumi.secret(
      pulumi
        .all(generated)
        .apply(([dbPassword, replicationPassword, redisPassword, djangoSecretKey, tlsPassphrase]): ClusterSecretValues => ({
          dbPassword,
          replicationPassword,
          redisPassword,
          djangoSecretKey,
          tlsPassphrase,
        })),
    );
    this.registerOutputs({ values: this.values });
  }
}
