import { firewallGroups, type ClusterSpec, type FirewallGroup } from "../../model";

// The policy itself (groups, rules, sources, what only the nodes hold) is model/firewall.ts.
export { describeSource, groupsFor, inboundFor, type FirewallGroup, type InboundRule, type RuleSource } from "../../model";

/**
 * The cluster's cloud firewall, provider-neutral: the policy's groups (model/firewall.ts), the same ones each
 * node's nftables is rendered from (roles/common.ts `firewallFor`), so the cloud firewall never blocks what
 * the roles rely on and never opens what a node refuses. Pure.
 */
export function planFirewall(spec: Pick<ClusterSpec, "adminCidrs" | "ssh">): FirewallGroup[] {
  return firewallGroups({ adminCidrs: spec.adminCidrs, sshPort: spec.ssh.port });
}
