/**
 * From a stack's inventory to its power (fencing) operations: one exhaustive switch over the providers, so
 * a new provider makes the compiler point here.
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { UserError } from "../../model/errors";
import type { Inventory } from "../../model/topology";
import { DigitalOceanPower } from "../power/digitalocean";
import { Ec2Power } from "../power/ec2";
import type { PowerOperations } from "../power/types";
import { digitalOceanToken, requireAwsCredentials } from "./credentials";

export interface PowerSources {
  /** Node name → provider machine id (droplet id, EC2 instance id), as the stack records them. Cloud stacks need it. */
  machineIds?: Record<string, string>;
  /**
   * hosts stacks: the power adapter of these machines, built by the caller (the lab's nspawn power lives in lab/,
   * which ops must not import). Without it a hosts stack has no power operations.
   */
  hostsPower?: PowerOperations;
  /** Environment the credentials are read from. Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Stack name, for the messages. Defaults to the inventory's cluster. */
  stack?: string;
  /** aws: a configured client (tests). Defaults to one for the inventory's region with the SDK's default chain. */
  ec2Client?: EC2Client;
  /** Home directory the AWS shared files are looked for in. Defaults to os.homedir(). */
  home?: string;
}

function requireMachineIds(inventory: Inventory, stack: string, ids: Record<string, string> | undefined): Record<string, string> {
  if (ids && Object.keys(ids).length) return ids;
  throw new UserError(
    `Stack ${stack} (${inventory.provider}): no machine ids to fence by; pass the node name → ${inventory.provider === "aws" ? "EC2 instance id" : "droplet id"} map the stack recorded (the Bootstrap resource's machineIds).`,
  );
}

/** The PowerOperations of the inventory's provider, with credentials from the environment. */
export function powerFor(inventory: Inventory, sources: PowerSources = {}): PowerOperations {
  const env = sources.env ?? process.env;
  const stack = sources.stack ?? inventory.cluster;
  switch (inventory.provider) {
    case "digitalocean":
      digitalOceanToken(env);
      return new DigitalOceanPower({ droplets: requireMachineIds(inventory, stack, sources.machineIds), env });
    case "aws":
      if (!sources.ec2Client) requireAwsCredentials(env, sources.home);
      return new Ec2Power({
        instances: requireMachineIds(inventory, stack, sources.machineIds),
        region: inventory.region,
        client: sources.ec2Client,
      });
    case "hosts":
      if (sources.hostsPower) return sources.hostsPower;
      throw new UserError(
        `Stack ${stack} (hosts) has no power operations: these machines have no API to power them off. Fence by hand (power the machine off, or cut its network) before promoting anything.`,
      );
    default: {
      const never: never = inventory.provider;
      throw new Error(`unknown provider ${String(never)}`);
    }
  }
}
