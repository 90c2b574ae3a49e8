// The Pulumi program: stack config → validated ClusterSpec → HaCluster → stack outputs.
// An invalid config throws a ConfigError here, before any resource registers.
import * as pulumi from "@pulumi/pulumi";
import { acmeDnsSecretKey, HaCluster, specFromPulumiConfig } from "./components";
import { healthDnsSecretKey } from "./model";
import { bootstrappedNextStep, manualBootstrapSteps } from "./components/bootstrap";

const spec = specFromPulumiConfig(pulumi.runtime.allConfig(), pulumi.getStack());
const config = new pulumi.Config();
const dnsTsigSecret = spec.provider === "hosts" ? config.requireSecret("dnsTsigSecret") : undefined;

// With the key, `pulumi up` also bootstraps the machines (components/bootstrap); without it, it says how to.
const sshPrivateKey = config.getSecret("sshPrivateKey");

// DNS-01: the renewal agent's credential (the narrowest the target allows; docs/certificates.md).
const acmeKey = acmeDnsSecretKey(spec);
const acmeDnsSecret = acmeKey === "dnsTsigSecret" ? dnsTsigSecret : acmeKey ? config.requireSecret(acmeKey) : undefined;

// The app's secrets (django-ha:appSecrets, a JSON object checked against app.secretKeys by the spec).
const appSecrets = spec.app.secretKeys.length ? config.requireSecretObject<Record<string, string>>("appSecrets") : undefined;

// The health agent's DNS credential (hosts, digitalocean; Route 53 health checks on aws; docs/health-agent.md).
const healthKey = healthDnsSecretKey(spec);
const healthDnsSecret = healthKey === "dnsTsigSecret" ? dnsTsigSecret : healthKey ? config.requireSecret(healthKey) : undefined;

const cluster = new HaCluster(spec.clusterName, {
  spec,
  dnsTsigSecret,
  bootstrap: sshPrivateKey ? { privateKey: sshPrivateKey, acmeDnsSecret, healthDnsSecret, appSecrets } : undefined,
});
if (!sshPrivateKey) pulumi.log.warn(manualBootstrapSteps(pulumi.getStack(), spec.provider, spec.app.secretKeys));

/** What the scripts (bootstrap, failover) read: `pulumi stack output inventory --json`. */
export const inventory = cluster.inventory;
export const recordFqdn = cluster.recordFqdn;
export const url = cluster.url;
/** Generated passwords and Django's secret key (secret: `pulumi stack output secrets --show-secrets`). */
export const secrets = cluster.secrets;
/** hosts target only: the TSIG key for the record's RFC 2136 updates (secret). */
export const dnsUpdateKey = cluster.dnsUpdateKey;
/** What finishes the installation: nothing when `pulumi up` bootstrapped the machines, else the exact commands. */
export const nextStep = cluster.bootstrap
  ? cluster.url.apply(bootstrappedNextStep)
  : manualBootstrapSteps(pulumi.getStack(), spec.provider, spec.app.secretKeys);
/** node → "no changes" | "N changes" of the bootstrap in the last `pulumi up` (with django-ha:sshPrivateKey). */
export const bootstrapResult = cluster.bootstrap?.result;
/** node → the provider's id of its machine (droplet id, EC2 instance id; none on hosts): what fencing powers off. */
export const machineIds = cluster.machines.machineIds;
