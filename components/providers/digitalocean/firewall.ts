import type { DigitalOceanTags } from "../../../model";
import type { FirewallGroup, RuleSource } from "../../plan";
import { firewallTargetTags } from "./tags";

const ANYWHERE = ["0.0.0.0/0", "::/0"];

/** DigitalOcean firewall inbound sources for a planned rule source (`groupTags`: the tags the rule's firewall targets). Pure; exported for tests. */
export function inboundSources(
  source: RuleSource,
  clusterTag: string,
  groupTags: string[],
): { sourceAddresses?: string[]; sourceTags?: string[] } {
  switch (source.kind) {
    case "internet":
      return { sourceAddresses: ANYWHERE };
    case "cidrs":
      return { sourceAddresses: source.cidrs };
    case "members":
      return { sourceTags: [clusterTag] };
    case "peers":
      return { sourceTags: groupTags };
    default: {
      const never: never = source;
      throw new Error(`unknown rule source ${JSON.stringify(never)}`);
    }
  }
}

/** One DigitalOcean cloud firewall, as plain data: the tags it applies to and its rules in the provider's shape. */
export interface DigitalOceanFirewallPlan {
  group: FirewallGroup["name"];
  targetTags: string[];
  /** No portRange on an ICMP rule. */
  inboundRules: { protocol: string; portRange?: string; sourceAddresses?: string[]; sourceTags?: string[] }[];
  outboundRules: { protocol: string; portRange?: string; destinationAddresses: string[] }[];
}

/** The DigitalOcean firewalls of the policy's groups (model/firewall.ts), targeted by tag. Pure. */
export function planDigitalOceanFirewalls(groups: readonly FirewallGroup[], tags: DigitalOceanTags): DigitalOceanFirewallPlan[] {
  return groups.map((group) => {
    const targetTags = firewallTargetTags(group, tags);
    return {
      group: group.name,
      targetTags,
      inboundRules: [
        ...group.inbound.map((r) => ({
          protocol: r.protocol,
          portRange: String(r.port),
          ...inboundSources(r.source, tags.cluster, targetTags),
        })),
        // DigitalOcean's rules take no ICMP type: all ICMP passes here, and each node's ruleset narrows it to the policy's types.
        ...(group.icmp.length ? [{ protocol: "icmp", sourceAddresses: ANYWHERE }] : []),
      ],
      // A droplet under any cloud firewall may only send what some firewall allows.
      outboundRules: group.outboundAll
        ? ["tcp", "udp", "icmp"].map((protocol) => ({
            protocol,
            portRange: protocol === "icmp" ? undefined : "1-65535",
            destinationAddresses: ANYWHERE,
          }))
        : [],
    };
  });
}
