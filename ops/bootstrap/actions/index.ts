/**
 * One handler per action kind (describe, validate, apply, diff), in a record the compiler checks is
 * exhaustive: adding a kind to roles/types.ts `Action` fails to compile until it has a handler here.
 */
import type { Action } from "../../../roles/types";
import type { ActionHandler, ActionOf, NodeRun } from "./handler";
import { fileHandler } from "./file";
import { packagesHandler } from "./packages";
import { scriptHandler } from "./script";
import { serviceHandler } from "./service";
import { uploadHandler } from "./upload";

export { type ActionHandler, type ActionOf, NodeRun, StepFailure, TIMEOUTS, combined, lastLines } from "./handler";

type Handlers = { [K in Action["kind"]]: ActionHandler<ActionOf<K>> };

export const HANDLERS: Handlers = {
  packages: packagesHandler,
  file: fileHandler,
  upload: uploadHandler,
  script: scriptHandler,
  service: serviceHandler,
};

/**
 * The handler of an action's kind. The one cast: TypeScript cannot correlate `HANDLERS[a.kind]` with `a`
 * itself (microsoft/TypeScript#30581); the record's type above guarantees each kind's handler takes that kind.
 */
function handlerOf(a: Action): ActionHandler<Action> {
  const handler = HANDLERS[a.kind] as ActionHandler<Action> | undefined;
  // Plans are typed, but a plan can come from JavaScript or JSON too.
  if (!handler) throw new Error(`unknown action kind ${JSON.stringify(a.kind)}`);
  return handler;
}

/** Name of a step as progress and reports show it. */
export function describeAction(a: Action): string {
  return handlerOf(a).describe(a);
}

/** Every problem with an action (see ActionHandler.validate). */
export function actionIssues(a: Action, at: string, earlier: readonly Action[]): string[] {
  if (!Object.hasOwn(HANDLERS, a.kind)) return [`${at}: unknown action kind ${JSON.stringify(a.kind)}`];
  return handlerOf(a).validate(a, at, earlier);
}

/** Apply an action (or with `readOnly` only compare it); the change, or undefined. */
export async function runAction(a: Action, run: NodeRun, readOnly: boolean): Promise<string | undefined> {
  const handler = handlerOf(a);
  return readOnly ? handler.diff(a, run) : handler.apply(a, run);
}
