/** renderNodePlan: everything one machine needs, in order, from the inventory and the secrets. Pure. */
import type { InventoryNode } from "../model";
import { packages } from "./actions";
import { childActions, childChecks } from "./child";
import { commonActions, commonChecks } from "./common";
import { clusterFacts, ClusterFacts } from "./context";
import { packagesFor } from "./packages";
import { debianReleaseScript } from "./scripts";
import { parentActions, parentChecks } from "./parent";
import { standbyActions, standbyChecks } from "./standby";
import type { Action, Check, NodePlan, RoleContext } from "./types";
import { workerActions, workerChecks } from "./worker";

function roleParts(node: InventoryNode, f: ClusterFacts): { actions: Action[]; checks: Check[]; appGroupMembers: string[] } {
  const app = f.ctx.app;
  switch (node.role) {
    case "parent":
      return { actions: parentActions(node, f), checks: parentChecks(node, f), appGroupMembers: [] };
    case "standby":
      return { actions: standbyActions(node, f), checks: standbyChecks(node, f), appGroupMembers: [] };
    case "child":
      // nginx (www-data) reaches the uWSGI socket through the app group.
      return { actions: childActions(node, f, app), checks: childChecks(node, f, app), appGroupMembers: ["www-data"] };
    case "worker":
      return { actions: workerActions(node, f, app, f.ctx.appDir), checks: workerChecks(node, f, app), appGroupMembers: [] };
    default: {
      const never: never = node.role;
      throw new Error(
        `node ${JSON.stringify((node as InventoryNode).name)} has unknown role ${JSON.stringify(never)}: use parent, standby, child or worker`,
      );
    }
  }
}

/** The plan of one node of ctx.inventory. Throws (before rendering anything) when the context is unusable. */
export function renderNodePlan(node: InventoryNode, ctx: RoleContext): NodePlan {
  const f = clusterFacts(ctx);
  const known = ctx.inventory.nodes.find((n) => n.name === node.name);
  if (!known)
    throw new Error(
      `node ${JSON.stringify(node.name)} is not in the inventory (nodes: ${ctx.inventory.nodes.map((n) => n.name).join(", ")}): render plans for inventory nodes only`,
    );
  const parts = roleParts(node, f);
  return {
    node,
    role: node.role,
    actions: [
      debianReleaseScript(),
      packages(packagesFor(node.role, ctx.app.debianPackages)),
      ...commonActions(node, f, parts.appGroupMembers),
      ...parts.actions,
    ],
    checks: [...commonChecks(), ...parts.checks],
  };
}

/** Plans of every node of the inventory, in inventory order. */
export function renderClusterPlans(ctx: RoleContext): NodePlan[] {
  return ctx.inventory.nodes.map((n) => renderNodePlan(n, ctx));
}
