import type { DigitalOceanTags } from "../../../model";
import { isDatabaseRole, ROLES, type Role } from "../../../model";
import type { FirewallGroup } from "../../plan";

// Tag names are derived (and checked against DigitalOcean's rules) in model/names.ts.
export { planTags, type DigitalOceanTags } from "../../../model";

/** The tag a machine of `role` carries for firewalls: the database machines' tag for either database role (never the role tag, which a failover moves). */
export function firewallTagOf(role: Role, tags: DigitalOceanTags): string {
  return isDatabaseRole(role) ? tags.database : tags.roles[role];
}

/**
 * The tags a firewall group applies to: the cluster tag when it covers every role, else the machines' firewall
 * tags (the database machines by their common tag: membership never follows django-ha:primary). Pure.
 */
export function firewallTargetTags(group: FirewallGroup, tags: DigitalOceanTags): string[] {
  return ROLES.every((r) => group.roles.includes(r)) ? [tags.cluster] : [...new Set(group.roles.map((r) => firewallTagOf(r, tags)))];
}

/** A droplet's tags: the cluster's, its firewall tag, its role tag when that says more (database machines), the user's. Pure. */
export function dropletTags(role: Role, tags: DigitalOceanTags): string[] {
  const own = [...new Set([firewallTagOf(role, tags), tags.roles[role]])];
  return [tags.cluster, ...own, ...tags.user];
}
