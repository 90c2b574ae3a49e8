import type { DigitalOceanTags } from "../../../spec";
import { ROLES } from "../../../spec";
import type { FirewallGroup } from "../../plan";

// Tag names are derived (and checked against DigitalOcean's rules) in spec/names.ts.
export { planTags, type DigitalOceanTags } from "../../../spec";

/** The tags a firewall group applies to: the cluster tag when it covers every role, else the roles' tags. Pure. */
export function firewallTargetTags(group: FirewallGroup, tags: DigitalOceanTags): string[] {
  return ROLES.every((r) => group.roles.includes(r)) ? [tags.cluster] : group.roles.map((r) => tags.roles[r]);
}
