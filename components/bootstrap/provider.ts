import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";

/**
 * The module the provider loads by absolute path at run time. A string is captured by value when Pulumi
 * serializes the provider; a captured import would drag the module graph (ssh2, …) into state and break.
 */
const RUN_MODULE = path.join(__dirname, "run.ts");
/** tsx's require hook, by absolute path too: the provider host resolves modules from its own location. */
const TSX_API = require.resolve("tsx/cjs/api");

/**
 * Re-run iff what the plans would put on the machines, where the machines are, or which machines they are
 * (a replaced droplet or instance, even at the same address) changed. Pure.
 */
export function bootstrapDiff(olds: Record<string, unknown>, news: Record<string, unknown>): pulumi.dynamic.DiffResult {
  // During preview inputs can be unknown (machines not created yet): say "changes" rather than guess.
  if (typeof news.plansHash !== "string" || typeof news.inventory !== "object" || news.inventory === null)
    return { changes: true, replaces: [], deleteBeforeReplace: false };
  const addresses = (inv: unknown): string =>
    JSON.stringify(((inv as { nodes?: { name: string; publicAddress: string }[] })?.nodes ?? []).map((n) => [n.name, n.publicAddress]));
  const oldAddresses = olds.addresses
    ? JSON.stringify(Object.entries(olds.addresses as Record<string, string>))
    : addresses(olds.inventory);
  const ids = (v: unknown): string => JSON.stringify(Object.entries((v as Record<string, string> | undefined) ?? {}).sort());
  // State written before machine ids were recorded has none: only addresses and plans count there.
  const replaced = olds.machineIds !== undefined && ids(olds.machineIds) !== ids(news.machineIds);
  const changes = olds.plansHash !== news.plansHash || oldAddresses !== addresses(news.inventory) || replaced;
  return { changes, replaces: [], deleteBeforeReplace: false };
}

/** Inputs the provider needs, checked before anything runs (unknown values pass: they are checked on update). */
export function bootstrapCheck(news: Record<string, unknown>): pulumi.dynamic.CheckResult {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  if (news.plans !== undefined && !Array.isArray(news.plans))
    failures.push({ property: "plans", reason: "must be the list of node plans (roles' renderNodePlan for every inventory node)" });
  if (news.privateKey !== undefined && (typeof news.privateKey !== "string" || !news.privateKey.includes("PRIVATE KEY")))
    failures.push({
      property: "privateKey",
      reason: "must be the text of an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----…), not a path",
    });
  if (news.concurrency !== undefined && (!Number.isInteger(news.concurrency) || (news.concurrency as number) < 1))
    failures.push({ property: "concurrency", reason: "must be a whole number ≥ 1" });
  return { inputs: news, failures };
}

/**
 * The dynamic provider: tiny, and it `require()`s its modules inside its methods (closure serialization).
 * The provider host has no TypeScript loader, so the methods register tsx before requiring run.ts.
 * Nothing is deleted on destroy: the machines go with their own resources.
 */
export const bootstrapProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    return bootstrapCheck(news);
  },
  async diff(_id, olds, news) {
    return bootstrapDiff(olds, news);
  },
  async create(inputs) {
    if (!require.extensions[".ts"]) require(TSX_API).register();
    const run = require(RUN_MODULE);
    const outs = await run.applyBootstrap(inputs, (line: string) => console.log(line));
    return { id: `${inputs.inventory.cluster}-bootstrap`, outs };
  },
  async update(_id, olds, news) {
    if (!require.extensions[".ts"]) require(TSX_API).register();
    const run = require(RUN_MODULE);
    return { outs: await run.applyBootstrap(news, (line: string) => console.log(line), olds) };
  },
  async delete() {
    // The bootstrap leaves nothing of its own to remove.
  },
};
