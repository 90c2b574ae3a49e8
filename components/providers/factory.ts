import type * as pulumi from "@pulumi/pulumi";
import { unknownProvider } from "../../model";
import type { Machines, MachinesArgs } from "./types";

/**
 * Create the machines of the plan's target (a component: depending on it waits for everything it creates).
 *
 * Each target's module is required here, when its stack needs it, not imported at the top: `@pulumi/aws` alone
 * loads about 300 modules (0.25–0.4 s of every run, docs/benchmarks.md), which a DigitalOcean or hosts stack, its
 * `pulumi up` and its offline plan never use. The layer rule (eslint `import-x/no-restricted-paths`) checks these
 * require()s like imports; `typeof import()` keeps them typed.
 */
export function createMachines(
  name: string,
  args: MachinesArgs,
  opts: pulumi.ComponentResourceOptions,
): Machines & pulumi.ComponentResource {
  const { plan } = args;
  const spec = plan.spec;
  // Each target gets the plan of its own branch of the spec: `{ ...plan, spec }` with `spec` narrowed.
  switch (spec.provider) {
    case "digitalocean": {
      const { DigitalOceanMachines } = require("./digitalocean") as typeof import("./digitalocean");
      return new DigitalOceanMachines(name, { ...args, plan: { ...plan, spec } }, opts);
    }
    case "aws": {
      const { AwsMachines } = require("./aws") as typeof import("./aws");
      return new AwsMachines(name, { ...args, plan: { ...plan, spec } }, opts);
    }
    case "hosts": {
      const { HostsMachines } = require("./hosts") as typeof import("./hosts");
      return new HostsMachines(name, { ...args, plan: { ...plan, spec } }, opts);
    }
    default:
      return unknownProvider(spec);
  }
}
