/**
 * Policy-style views over a recorded program run: what each machine accepts, whatever the provider's
 * resource shapes. Tests assert on these, so a regression in any provider's firewall shows up the same way.
 */
import { ROLES, type Role } from "../model";
import type { ProgramRun, RecordedResource } from "../components/plan/offlineEngine";

/** One inbound opening on one machine: the port and where traffic may come from. */
export interface Opening {
  node: string;
  role: Role;
  port: string;
  protocol: string;
  /** CIDRs, "members" for "every machine of this cluster", or `role:<role>` for the machines of a role. */
  sources: string[];
}

export const ANYWHERE = ["0.0.0.0/0", "::/0"];

/** ICMP a cloud firewall may pass: echo-request and the errors (IPv4 3/11/12, IPv6 1/2/3/4), or "all" (DigitalOcean takes no type). */
const ICMP_ALLOWED: Record<"icmp" | "icmpv6", string[]> = {
  icmp: ["all", "type 8", "type 3", "type 11", "type 12"],
  icmpv6: ["type 128", "type 1", "type 2", "type 3", "type 4"],
};

const byType = (run: ProgramRun, type: string) => run.resources.filter((r) => r.type === type);

type Machine = { name: string; role: Role; resource: RecordedResource };

/** A source that is "the machines carrying this tag / group": "members" when that is all of them, else `role:<role>` per role. */
function carriers(nodes: Machine[], carries: (n: Machine) => boolean): string[] {
  const matched = nodes.filter(carries);
  return matched.length === nodes.length ? ["members"] : [...new Set(matched.map((n) => `role:${n.role}`))].sort();
}

/** Machines of the run: name (as given to the provider) and role, with their recorded resource. */
export function machines(run: ProgramRun): Machine[] {
  // A droplet's role is its role tag (`<cluster>-<stack>-<role>`, model/names.ts planTags): machine names are neutral (db-1, db-2).
  const roleOf = (tags: string[]): Role => {
    const found = ROLES.filter((r) => tags.some((t) => !t.startsWith("django-ha-") && t.endsWith(`-${r}`)));
    if (found.length !== 1) throw new Error(`droplet tags ${JSON.stringify(tags)} carry ${found.length} role tags, want 1`);
    return found[0];
  };
  const droplets = byType(run, "digitalocean:index/droplet:Droplet").map((r) => ({
    name: String(r.inputs.name),
    role: roleOf((r.inputs.tags as string[]) ?? []),
    resource: r,
  }));
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
        const sources = [
          ...((rule.sourceAddresses as string[] | undefined) ?? []),
          ...tagSources.flatMap((t) => carriers(nodes, (n) => ((n.resource.inputs.tags as string[]) ?? []).includes(t))),
        ];
        result.push({ node: node.name, role: node.role, port: String(rule.portRange ?? "all"), protocol: String(rule.protocol), sources });
      }
    }
  }
  for (const rule of byType(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")) {
    for (const node of nodes) {
      const carried = (node.resource.inputs.vpcSecurityGroupIds as string[]) ?? [];
      if (!carried.includes(String(rule.inputs.securityGroupId))) continue;
      let sources: string[];
      if (rule.inputs.referencedSecurityGroupId) {
        const ref = String(rule.inputs.referencedSecurityGroupId);
        sources = carriers(nodes, (n) => ((n.resource.inputs.vpcSecurityGroupIds as string[]) ?? []).includes(ref));
      } else {
        sources = [String(rule.inputs.cidrIpv4 ?? rule.inputs.cidrIpv6)];
      }
      // An ICMP rule's "ports" are the message type and code (-1: every code).
      const icmp = String(rule.inputs.ipProtocol).startsWith("icmp");
      const port = icmp
        ? `type ${rule.inputs.fromPort}${rule.inputs.toPort === -1 ? "" : ` code ${rule.inputs.toPort}`}`
        : rule.inputs.fromPort === rule.inputs.toPort
          ? String(rule.inputs.fromPort)
          : `${rule.inputs.fromPort}-${rule.inputs.toPort}`;
      result.push({ node: node.name, role: node.role, port, protocol: String(rule.inputs.ipProtocol), sources });
    }
  }
  return result;
}

/**
 * Check the cluster's firewall policy; returns every violation (empty = compliant):
 * nothing public but 80/443 on children; SSH only from the admin CIDRs, plus between the parent and the
 * standby (share replication); DB/NFS/Redis (and the NFSv3 rpcbind/mountd) only from members and only on
 * the parent and the standby; ICMP only from anywhere and only ping and the errors (AWS: by type,
 * every code; DigitalOcean: all ICMP, which the nodes narrow); no other port anywhere.
 */
export function firewallViolations(list: Opening[], adminCidrs: string[], sshPort = 22): string[] {
  const problems: string[] = [];
  const databaseNode = (o: Opening) => o.role === "parent" || o.role === "standby";
  for (const o of list) {
    const where = `${o.node} (${o.role}) ${o.protocol}/${o.port} from ${o.sources.join(", ")}`;
    if (o.protocol === "icmp" || o.protocol === "icmpv6") {
      if (!o.sources.every((s) => ANYWHERE.includes(s))) problems.push(`${where}: ICMP only from anywhere`);
      if (!ICMP_ALLOWED[o.protocol].includes(o.port)) problems.push(`${where}: only ping and ICMP errors`);
      continue;
    }
    if (o.protocol !== "tcp" && !(o.protocol === "udp" && o.port === "111"))
      problems.push(`${where}: only TCP may be open (and rpcbind over UDP)`);
    if (o.port === "80" || o.port === "443") {
      if (o.role !== "child") problems.push(`${where}: web ports only on children`);
    } else if (o.port === String(sshPort)) {
      const peers = o.sources.filter((s) => s.startsWith("role:"));
      if (!o.sources.every((s) => adminCidrs.includes(s) || s.startsWith("role:")))
        problems.push(`${where}: SSH only from the admin CIDRs`);
      if (peers.length && (!databaseNode(o) || !peers.every((s) => s === "role:parent" || s === "role:standby")))
        problems.push(`${where}: SSH between machines only between the database nodes`);
    } else if (["5432", "2049", "6379", "111", "20048"].includes(o.port)) {
      if (!o.sources.every((s) => s === "members")) problems.push(`${where}: data ports only from cluster members`);
      if (!databaseNode(o)) problems.push(`${where}: data ports only on the parent and the standby`);
    } else {
      problems.push(`${where}: port not allowed at all`);
    }
  }
  return problems;
}
