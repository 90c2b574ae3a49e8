import type { ClusterSpec, Role } from "../../../spec";
import { ROLES } from "../../../spec";
import type { FirewallGroup } from "../../plan";

/** DigitalOcean tag names allow letters, digits, ':', '-' and '_'. */
function tagName(text: string): string {
  return text.replace(/[^A-Za-z0-9:_-]/g, "-").slice(0, 255);
}

export interface DigitalOceanTags {
  /** On every droplet of the cluster: firewalls' "cluster members" source. */
  cluster: string;
  /** One per role, e.g. `shop-child`: firewalls target roles by tag (scales past 10 droplets, no id churn). */
  roles: Record<Role, string>;
  /** django-ha:tags as `key:value` tag names. */
  user: string[];
}

/** Tag names of a cluster. Pure. */
export function planTags(spec: Pick<ClusterSpec, "clusterName" | "tags">): DigitalOceanTags {
  const roles = Object.fromEntries(ROLES.map((r) => [r, tagName(`${spec.clusterName}-${r}`)])) as Record<Role, string>;
  return { cluster: tagName(`django-ha-${spec.clusterName}`), roles, user: Object.entries(spec.tags).map(([k, v]) => tagName(v ? `${k}:${v}` : k)) };
}

/** The tags a firewall group applies to: the cluster tag when it covers every role, else the roles' tags. Pure. */
export function firewallTargetTags(group: FirewallGroup, tags: DigitalOceanTags): string[] {
  return ROLES.every((r) => group.roles.includes(r)) ? [tags.cluster] : group.roles.map((r) => tags.roles[r]);
}
