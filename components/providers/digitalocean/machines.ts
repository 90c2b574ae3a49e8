import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import type { RecordMember } from "../../../ops/dns/types";
import { digitalOceanNames, machineKind, tagResourceSuffix, type InventoryNode } from "../../../model";
import { FirewallGroup, legacyAliases, nodeKey, renderUserData, RuleSource } from "../../plan";
import { inventoryNodesOf, machineIdsOf, type Machines, type MachinesArgs } from "../types";
import { DigitalOceanNode } from "./node";
import { dropletTags, firewallTargetTags, planTags } from "./tags";

/** Args of {@link DigitalOceanMachines}. */
export interface DigitalOceanMachinesArgs extends MachinesArgs {
  /** Private range of the VPC. Defaults to one DigitalOcean picks (it must not overlap your other VPCs). */
  vpcIpRange?: string;
}

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

/**
 * The DigitalOcean target: a VPC, a droplet per planned node (Debian 13), DB and share volumes on the
 * parent and the standby, cloud firewalls by tag, and one A record per child in the DigitalOcean domain
 * `domain` (which must exist in the account already).
 */
export class DigitalOceanMachines extends pulumi.ComponentResource implements Machines {
  public readonly vpc: digitalocean.Vpc;
  /** The stack's `sshPublicKeys` as DigitalOcean SSH keys, given to every droplet at creation. */
  public readonly sshKeys: digitalocean.SshKey[];
  public readonly nodeResources: DigitalOceanNode[];
  public readonly firewalls: digitalocean.Firewall[];
  public readonly records: digitalocean.DnsRecord[];
  public readonly nodes: pulumi.Output<InventoryNode[]>;
  public readonly recordMembers: pulumi.Output<RecordMember[]>;
  public readonly hostedZoneId: pulumi.Output<string | undefined>;
  public readonly machineIds: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: DigitalOceanMachinesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("django-ha:digitalocean:Machines", name, {}, opts);
    const { plan } = args;
    const { spec } = plan;
    const tagNames = planTags(spec);

    const tagResources = new Map<string, digitalocean.Tag>();
    const tag = (tagName: string): pulumi.Output<string> => {
      let t = tagResources.get(tagName);
      if (!t) {
        t = new digitalocean.Tag(`${name}-tag-${tagResourceSuffix(tagName)}`, { name: tagName }, { parent: this });
        tagResources.set(tagName, t);
      }
      return t.name;
    };

    this.vpc = new digitalocean.Vpc(
      `${name}-vpc`,
      {
        name: digitalOceanNames.vpc(spec),
        region: spec.region,
        ipRange: args.vpcIpRange,
        description: `django-ha cluster ${spec.clusterName}: private network`,
      },
      { parent: this },
    );

    const userData = renderUserData({ sshPublicKeys: spec.sshPublicKeys, user: spec.ssh.user, port: spec.ssh.port });
    // DigitalOcean SSH keys at creation: the droplet gets them from its metadata and no root password is
    // e-mailed (DigitalOcean only sends one when a droplet has no SSH key).
    this.sshKeys = spec.sshPublicKeys.map(
      (publicKey, i) =>
        new digitalocean.SshKey(`${name}-ssh-key-${i + 1}`, { name: digitalOceanNames.sshKey(spec, i + 1), publicKey }, { parent: this }),
    );
    const sshKeyFingerprints = this.sshKeys.map((k) => k.fingerprint);
    this.nodeResources = plan.nodes.map(
      (node) =>
        new DigitalOceanNode(
          `${name}-${nodeKey(node)}`,
          {
            node,
            region: spec.region,
            vpcUuid: this.vpc.id,
            tags: dropletTags(node.role, tagNames).map(tag),
            userData,
            sshKeys: sshKeyFingerprints,
            volumes:
              machineKind(node.role) === "db"
                ? [
                    { purpose: "db", sizeGb: spec.volumes.dbGb, name: digitalOceanNames.volume(spec, nodeKey(node), "db") },
                    { purpose: "share", sizeGb: spec.volumes.shareGb, name: digitalOceanNames.volume(spec, nodeKey(node), "share") },
                  ]
                : [],
          },
          { parent: this, ...legacyAliases(name, node) },
        ),
    );

    this.firewalls = plan.firewall.map((group: FirewallGroup) => {
      const targetNames = firewallTargetTags(group, tagNames);
      const targets = targetNames.map(tag);
      return new digitalocean.Firewall(
        `${name}-firewall-${group.name}`,
        {
          name: digitalOceanNames.firewall(spec, group.name),
          tags: targets,
          inboundRules: group.inbound.map((r) => ({
            protocol: r.protocol,
            portRange: String(r.port),
            ...inboundSources(r.source, tagNames.cluster, targetNames),
          })),
          // A droplet under any cloud firewall may only send what some firewall allows.
          outboundRules: group.outboundAll
            ? ["tcp", "udp", "icmp"].map((protocol) => ({
                protocol,
                portRange: protocol === "icmp" ? undefined : "1-65535",
                destinationAddresses: ANYWHERE,
              }))
            : [],
        },
        { parent: this },
      );
    });

    const byName = new Map(this.nodeResources.map((r, i) => [plan.nodes[i].name, r]));
    this.records = plan.record.members.map(
      (child) =>
        new digitalocean.DnsRecord(
          `${name}-record-${nodeKey(child)}`,
          {
            domain: spec.domain,
            type: "A",
            name: plan.record.relativeName,
            value: byName.get(child.name)!.publicAddress,
            ttl: plan.record.ttl,
          },
          { parent: this },
        ),
    );

    this.nodes = inventoryNodesOf(plan.nodes, this.nodeResources);
    this.machineIds = machineIdsOf(
      plan.nodes,
      this.nodeResources.map((r) => r.droplet.id),
    );
    this.recordMembers = pulumi.all(
      plan.record.members.map((c) => byName.get(c.name)!.publicAddress.apply((address): RecordMember => ({ name: c.name, address }))),
    );
    this.hostedZoneId = pulumi.output(undefined as string | undefined);
    this.registerOutputs({ vpcId: this.vpc.id, nodes: this.nodes, recordMembers: this.recordMembers });
  }
}
