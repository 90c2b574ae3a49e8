/**
 * Policy-style views over a recorded program run: what each machine accepts, whatever the provider's
 * resource shapes. Tests assert on these, so a regression in any provider's firewall shows up the same way.
 */
import type { Role } from "../spec";
import type { ProgramRun, RecordedResource } from "./mocks";

/** One inbound opening on one machine: the port and where traffic may come from. */
export interface Opening {
  node: string;
  role: Role;
  port: string;
  protocol: string;
  /** CIDRs, or "members" for "machines of this cluster". */
  sources: string[];
}

export const ANYWHERE = ["0.0.0.0/0", "::/0"];

const byType = (run: ProgramRun, type: string) => run.resources.filter((r) => r.type === type);

/** Machines of the run: name (as given to the provider) and role, with their recorded resource. */
export function machines(run: ProgramRun): { name: string; role: Role; resource: RecordedResource }[] {
  const roleOf = (name: string): Role => (/-parent$/.test(name) ? "parent" : /-standby$/.test(name) ? "standby" : /-worker$/.test(name) ? "worker" : "child");
  const droplets = byType(run, "digitalocean:index/droplet:Droplet").map((r) => ({ name: String(r.inputs.name), role: roleOf(String(r.inputs.name)), resource: r }));
  const instances = byType(run, "aws:ec2/instance:Instance").map((r) => {
    const tags = r.inputs.tags as Record<string, string>;
    return { name: tags.Name, role: tags["django-ha:role"] as Role, resource: r };
  });
  return [...droplets, ...instances];
}

/** Every inbound opening on every machine (DigitalOcean firewalls by tag, AWS security groups by id). */
export function openings(run: ProgramRun): Opening[] {
  const result: Opening[] = [];
  const nodes = machines(run);
  const clusterTags = new Set<string>();
  for (const fw of byType(run, "digitalocean:index/firewall:Firewall")) {
    const targets = new Set(fw.inputs.tags as string[]);
    for (const node of nodes) {
      const nodeTags = (node.resource.inputs.tags as string[]) ?? [];
      if (!nodeTags.some((t) => targets.has(t))) continue;
      for (const rule of (fw.inputs.inboundRules as Record<string, unknown>[]) ?? []) {
        const tagSources = (rule.sourceTags as string[] | undefined) ?? [];
        tagSources.forEach((t) => clusterTags.add(t));
        const sources = [...((rule.sourceAddresses as string[] | undefined) ?? []), ...tagSources.map((t) => (nodes.every((n) => ((n.resource.inputs.tags as string[]) ?? []).includes(t)) ? "members" : `tag:${t}`))];
        result.push({ node: node.name, role: node.role, port: String(rule.portRange ?? "all"), protocol: String(rule.protocol), sources });
      }
    }
  }
  const groups = byType(run, "aws:ec2/securityGroup:SecurityGroup");
  const idOf = (g: RecordedResource) => g.id;
  for (const rule of byType(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")) {
    for (const node of nodes) {
      const carried = (node.resource.inputs.vpcSecurityGroupIds as string[]) ?? [];
      if (!carried.includes(String(rule.inputs.securityGroupId))) continue;
      let source: string;
      if (rule.inputs.referencedSecurityGroupId) {
        const ref = String(rule.inputs.referencedSecurityGroupId);
        source = nodes.every((n) => ((n.resource.inputs.vpcSecurityGroupIds as string[]) ?? []).includes(ref)) ? "members" : `sg:${groups.find((g) => idOf(g) === ref)?.name}`;
      } else {
        source = String(rule.inputs.cidrIpv4 ?? rule.inputs.cidrIpv6);
      }
      const port = rule.inputs.fromPort === rule.inputs.toPort ? String(rule.inputs.fromPort) : `${rule.inputs.fromPort}-${rule.inputs.toPort}`;
      result.push({ node: node.name, role: node.role, port, protocol: String(rule.inputs.ipProtocol), sources: [source] });
    }
  }
  return result;
}

/**
 * Check the cluster's firewall policy; returns every violation (empty = compliant):
 * nothing public but 80/443 on children; 22 only from the admin CIDRs; DB/NFS/Redis only from members
 * and only on the parent and the standby; no other port anywhere.
 */
export function firewallViolations(list: Opening[], adminCidrs: string[], sshPort = 22): string[] {
  const problems: string[] = [];
  for (const o of list) {
    const where = `${o.node} (${o.role}) ${o.protocol}/${o.port} from ${o.sources.join(", ")}`;
    if (o.protocol !== "tcp") problems.push(`${where}: only TCP may be open`);
    if (o.port === "80" || o.port === "443") {
      if (o.role !== "child") problems.push(`${where}: web ports only on children`);
    } else if (o.port === String(sshPort)) {
      if (!o.sources.every((s) => adminCidrs.includes(s))) problems.push(`${where}: SSH only from the admin CIDRs`);
    } else if (["5432", "2049", "6379"].includes(o.port)) {
      if (!o.sources.every((s) => s === "members")) problems.push(`${where}: data ports only from cluster members`);
      if (o.role !== "parent" && o.role !== "standby") problems.push(`${where}: data ports only on the parent and the standby`);
    } else {
      problems.push(`${where}: port not allowed at all`);
    }
  }
  return problems;
}
