import * as cmd from "../commands";
import { type ActionHandler, type ActionOf, type NodeRun, TIMEOUTS } from "./handler";

type PackagesAction = ActionOf<"packages">;

const PACKAGE = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?$/;

/** The names of this action that are not installed yet. */
async function missing(a: PackagesAction, run: NodeRun): Promise<string[]> {
  if (a.names.length === 0) return [];
  const probe = await run.run(packagesHandler.describe(a), cmd.probePackages(a.names));
  return cmd.missingPackages(a.names, probe.stdout);
}

/** apt-get install (no recommends) of whatever of the names is not installed yet. */
export const packagesHandler: ActionHandler<PackagesAction> = {
  describe: (a) => `packages (${a.names.length})`,

  validate: (a, at) =>
    a.names
      .filter((p) => !PACKAGE.test(p))
      .map((p) => `${at}: package name ${JSON.stringify(p)} is not a Debian package name; fix the role's package list`),

  async apply(a, run) {
    const names = await missing(a, run);
    if (names.length === 0) return undefined;
    const step = this.describe(a);
    run.log(`${step}: installing ${names.join(" ")}`);
    await run.run(step, cmd.installPackages(names), { timeoutMs: TIMEOUTS.packages });
    return `packages: installed ${names.join(" ")}`;
  },

  async diff(a, run) {
    const names = await missing(a, run);
    return names.length === 0 ? undefined : `packages: would install ${names.join(" ")}`;
  },
};
