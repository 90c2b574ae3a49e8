import type * as pulumi from "@pulumi/pulumi";
import { AwsMachines } from "./aws";
import { DigitalOceanMachines } from "./digitalocean";
import { HostsMachines } from "./hosts";
import { unknownProvider } from "../../model";
import type { Machines, MachinesArgs } from "./types";

/** Create the machines of the plan's target (a component: depending on it waits for everything it creates). */
export function createMachines(
  name: string,
  args: MachinesArgs,
  opts: pulumi.ComponentResourceOptions,
): Machines & pulumi.ComponentResource {
  const { plan } = args;
  const spec = plan.spec;
  // Each target gets the plan of its own branch of the spec: `{ ...plan, spec }` with `spec` narrowed.
  switch (spec.provider) {
    case "digitalocean":
      return new DigitalOceanMachines(name, { ...args, plan: { ...plan, spec } }, opts);
    case "aws":
      return new AwsMachines(name, { ...args, plan: { ...plan, spec } }, opts);
    case "hosts":
      return new HostsMachines(name, { ...args, plan: { ...plan, spec } }, opts);
    default:
      return unknownProvider(spec);
  }
}
