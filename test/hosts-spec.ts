/**
 * Hosts specs for tests: hostsInventory takes a HostsSpec (only the hosts target's inventory follows from its config),
 * so tests parse a hosts stack or config here and get the narrowed type, or a clear failure naming what they parsed.
 */
import { loadStackSpec, parseClusterSpec, type ClusterSpec, type HostsSpec } from "../model";

/** The spec itself when it is a hosts one; otherwise an error naming `what` and its provider. */
export function asHostsSpec(spec: ClusterSpec, what: string): HostsSpec {
  if (spec.provider !== "hosts") throw new Error(`${what} targets ${spec.provider}, not hosts (django-ha:provider: hosts)`);
  return spec;
}

/** A hosts stack's validated spec (`stacks/Pulumi.<stack>.yaml`, or `dir`). */
export const hostsStackSpec = (stack: string, dir?: string): HostsSpec => asHostsSpec(loadStackSpec(stack, dir), `stack ${stack}`);

/** A hosts config's validated spec (keys without the `django-ha:` prefix, e.g. test/configs.ts's hostsConfig). */
export const parseHostsSpec = (config: Record<string, unknown>): HostsSpec =>
  asHostsSpec(parseClusterSpec(config), `config of cluster ${String(config.clusterName)}`);
