// The Pulumi program: stack config → validated ClusterSpec → HaCluster → stack outputs.
// An invalid config throws a ConfigError here, before any resource registers.
import * as pulumi from "@pulumi/pulumi";
import { HaCluster, specFromPulumiConfig } from "./components";

const spec = specFromPulumiConfig(pulumi.runtime.allConfig(), pulumi.getStack());
const config = new pulumi.Config();
const dnsTsigSecret = spec.provider === "hosts" ? config.requireSecret("dnsTsigSecret") : undefined;

const cluster = new HaCluster(spec.clusterName, { spec, dnsTsigSecret });

/** What the scripts (bootstrap, failover) read: `pulumi stack output inventory --json`. */
export const inventory = cluster.inventory;
export const recordFqdn = cluster.recordFqdn;
export const url = cluster.url;
/** Generated passwords and Django's secret key (secret: `pulumi stack output secrets --show-secrets`). */
export const secrets = cluster.secrets;
/** hosts target only: the TSIG key for the record's RFC 2136 updates (secret). */
export const dnsUpdateKey = cluster.dnsUpdateKey;
