import type * as pulumi from "@pulumi/pulumi";
import { AwsMachines } from "./aws";
import { DigitalOceanMachines } from "./digitalocean";
import { HostsMachines } from "./hosts";
import type { Machines, MachinesArgs } from "./types";

/** Create the machines of the plan's target (a component: depending on it waits for everything it creates). */
export function createMachines(
  name: string,
  args: MachinesArgs,
  opts: pulumi.ComponentResourceOptions,
): Machines & pulumi.ComponentResource {
  const provider = args.plan.spec.provider;
  switch (provider) {
    case "digitalocean":
      return new DigitalOceanMachines(name, args, opts);
    case "aws":
      return new AwsMachines(name, args, opts);
    case "hosts":
      return new HostsMachines(name, args, opts);
    default: {
      const never: never = provider;
      throw new Error(`unknown provider ${String(never)}`);
    }
  }
}
