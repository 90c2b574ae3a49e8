/**
 * Node name → provider id, as the power adapters take it (the Pulumi stack output can carry the map).
 */
import { UserError } from "../../model/errors";

/** Validates the map once: every id matches `pattern`. Throws one UserError listing every bad entry. */
export function checkNodeIds<T extends string | number>(
  adapter: string,
  ids: Record<string, T>,
  valid: (id: T) => boolean,
  example: string,
): Map<string, T> {
  const problems = Object.entries(ids)
    .filter(([, id]) => !valid(id))
    .map(([node, id]) => `  - ${node} = ${JSON.stringify(id)}: not a valid id; use the id from the stack outputs, e.g. ${example}`);
  if (Object.keys(ids).length === 0) problems.push(`  - (empty map): pass node name → id for every node that may be fenced`);
  if (problems.length > 0) throw new UserError(`${adapter}: bad node ids:\n${problems.join("\n")}`);
  return new Map(Object.entries(ids));
}

/** The id of `node`, or a UserError naming the node and the nodes known. */
export function idOf<T>(adapter: string, ids: Map<string, T>, node: string): T {
  const id = ids.get(node);
  if (id === undefined) {
    throw new UserError(
      `${adapter} does not know node ${JSON.stringify(node)}; known nodes: ${[...ids.keys()].join(", ")}. Check the node name against the inventory (npm run plan) or pass its id.`,
    );
  }
  return id;
}
