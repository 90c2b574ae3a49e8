/** Small constructors for Actions, so role files read as a list of steps. */
import type { Action } from "./types";

export type FileAction = Extract<Action, { kind: "file" }>;
export type ServiceAction = Extract<Action, { kind: "service" }>;

export function file(path: string, content: string, mode = "0644", owner = "root", group = "root"): FileAction {
  return { kind: "file", file: { path, content, mode, owner, group } };
}

export function started(
  name: string,
  restartWhen: string[] = [],
  extra: Partial<Omit<ServiceAction, "kind" | "name">> = {},
): ServiceAction {
  return { kind: "service", name, state: "started", enabled: true, restartWhen, ...extra };
}

export function stopped(name: string): ServiceAction {
  return { kind: "service", name, state: "stopped", enabled: false, restartWhen: [] };
}

export function masked(name: string): ServiceAction {
  return { kind: "service", name, state: "masked", enabled: false, restartWhen: [] };
}

export function packages(names: string[]): Action {
  return { kind: "packages", names };
}

export function pathsOf(actions: FileAction[]): string[] {
  return actions.map((a) => a.file.path);
}
