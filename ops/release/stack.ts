/** From a stack name to what deploy, rollback and maintenance need: the inventory, the app, SSH, the lock. */
import * as fs from "node:fs";
import { resolveStack, type ResolveStackOptions, type StackTarget } from "../bootstrap/stack";
import { consoleProgress } from "../bootstrap/bootstrapCluster";
import { withStackLock } from "../lock";
import { KnownHostsFile, SshExecutor } from "../ssh";
import { UserError, type InventoryNode } from "../../model";
import type { ReleaseApp } from "./types";
import type { ReleaseRunBase } from "./nodes";

/** The repository's sample project: what a stack without django-ha:app deploys. */
export { SAMPLE_APP } from "../../model/app";

export interface ReleaseTarget {
  target: StackTarget;
  app: ReleaseApp;
  base: ReleaseRunBase;
}

/** Resolve the stack; `offline` (dry runs) reads no key and connects nowhere. */
export function releaseTarget(o: ResolveStackOptions & { app?: ReleaseApp }): ReleaseTarget {
  const target = resolveStack(o);
  const app = o.app ?? target.app;
  const inv = target.inventory;
  let key: string | undefined;
  const connect = (node: InventoryNode) => {
    if (key === undefined) {
      if (!fs.existsSync(target.identityFile))
        throw new UserError(
          `SSH key ${target.identityFile} does not exist. Pass the private key whose public half the machines authorize with --identity <file>.`,
        );
      key = fs.readFileSync(target.identityFile, "utf8");
    }
    return SshExecutor.connect(
      {
        node: node.name,
        host: node.publicAddress,
        port: inv.ssh.port,
        username: inv.ssh.user,
        privateKey: key,
        knownHosts: new KnownHostsFile(target.knownHostsPath),
      },
      { connectAttempts: 3, readyTimeoutMs: 10_000, minBackoffMs: 500 },
    );
  };
  const names = ["plan", "deploy", "rollback", ...inv.nodes.map((n) => n.name)];
  return { target, app, base: { inventory: inv, connect, log: consoleProgress(names) } };
}

/** Run a changing verb under the stack's lock (no bootstrap, failover or other release verb meanwhile). */
export function withReleaseLock<T>(t: ReleaseTarget, verb: string, fn: () => Promise<T>): Promise<T> {
  return withStackLock(t.target.lockPath, t.target.stack, verb, fn);
}
