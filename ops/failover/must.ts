/** One remote command that has to succeed, for the failover's steps and the rejoin. */
import { UserError } from "../../model/errors";
import type { RemoteExecutor } from "../ssh/executor";

/** Run a command; a non-zero exit is a UserError naming the node, what failed and the output's tail. */
export async function must(ex: RemoteExecutor, argv: readonly string[], what: string, timeoutMs = 90_000): Promise<string> {
  const r = await ex.run(argv, { timeoutMs });
  if (r.code !== 0)
    throw new UserError(`${ex.node}: ${what} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split("\n").slice(-8).join("\n")}`);
  return r.stdout;
}
