import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import type { RecordMember } from "../../../ops/dns/types";
import { digitalOceanNames, machineKind, tagResourceSuffix, type DigitalOceanSpec, type InventoryNode } from "../../../model";
import { legacyAliases, nodeKey, renderUserData } from "../../plan";
import { createdNode, inventoryNodesOf, machineIdsOf, type Machines, type MachinesArgs } from "../types";
import { planDigitalOceanFirewalls } from "./firewall";
import { DigitalOceanNode } from "./node";
import { dropletTags, planTags, type DigitalOceanTags } from "./tags";

/** Args of {@link DigitalOceanMachines}. */
export interface DigitalOceanMachinesArgs extends MachinesArgs<DigitalOceanSpec> {
  /** Private range of the VPC. Defaults to one DigitalOcean picks (it must not overlap your other VPCs). */
  vpcIpRange?: string;
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
    const tag = tagMaker(name, this);

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
    // DigitalOcean SSH keys at creation: the droplet gets them from its metadata and no root password is
    // e-mailed (DigitalOcean only sends one when a droplet has no SSH key).
    this.sshKeys = spec.sshPublicKeys.map(
      (publicKey, i) =>
        new digitalocean.SshKey(`${name}-ssh-key-${i + 1}`, { name: digitalOceanNames.sshKey(spec, i + 1), publicKey }, { parent: this }),
    );
    this.nodeResources = createDroplets(name, { plan, vpcUuid: this.vpc.id, sshKeys: this.sshKeys, tagNames, tag }, this);
    this.firewalls = planDigitalOceanFirewalls(plan.firewall, tagNames).map(
      (fw) =>
        new digitalocean.Firewall(
          `${name}-firewall-${fw.group}`,
          {
            name: digitalOceanNames.firewall(spec, fw.group),
            tags: fw.targetTags.map(tag),
            inboundRules: fw.inboundRules,
            outboundRules: fw.outboundRules,
          },
          { parent: this },
        ),
    );

    const members = plan.record.members.map((child) => ({ child, node: createdNode(plan.nodes, this.nodeResources, child.name) }));
    this.records = members.map(
      ({ child, node }) =>
        new digitalocean.DnsRecord(
          `${name}-record-${nodeKey(child)}`,
          { domain: spec.domain, type: "A", name: plan.record.relativeName, value: node.publicAddress, ttl: plan.record.ttl },
          { parent: this },
        ),
    );

    this.nodes = inventoryNodesOf(plan.nodes, this.nodeResources);
    this.machineIds = machineIdsOf(
      plan.nodes,
      this.nodeResources.map((r) => r.droplet.id),
    );
    this.recordMembers = pulumi.all(
      members.map(({ child, node }) => node.publicAddress.apply((address): RecordMember => ({ name: child.name, address }))),
    );
    this.hostedZoneId = pulumi.output(undefined as string | undefined);
    this.registerOutputs({ vpcId: this.vpc.id, nodes: this.nodes, recordMembers: this.recordMembers });
  }
}

/** A function giving the name of tag `tagName`, creating its Tag resource the first time (each tag once). */
function tagMaker(name: string, parent: pulumi.Resource): (tagName: string) => pulumi.Output<string> {
  const tagResources = new Map<string, digitalocean.Tag>();
  return (tagName) => {
    let t = tagResources.get(tagName);
    if (!t) {
      t = new digitalocean.Tag(`${name}-tag-${tagResourceSuffix(tagName)}`, { name: tagName }, { parent });
      tagResources.set(tagName, t);
    }
    return t.name;
  };
}

interface DropletsArgs {
  plan: MachinesArgs<DigitalOceanSpec>["plan"];
  vpcUuid: pulumi.Input<string>;
  sshKeys: digitalocean.SshKey[];
  tagNames: DigitalOceanTags;
  tag: (tagName: string) => pulumi.Output<string>;
}

/** A droplet (with its volumes on the database machines) per planned node, in plan order. */
function createDroplets(name: string, args: DropletsArgs, parent: pulumi.Resource): DigitalOceanNode[] {
  const { spec, nodes } = args.plan;
  const userData = renderUserData({ sshPublicKeys: spec.sshPublicKeys, user: spec.ssh.user, port: spec.ssh.port });
  const sshKeyFingerprints = args.sshKeys.map((k) => k.fingerprint);
  return nodes.map(
    (node) =>
      new DigitalOceanNode(
        `${name}-${nodeKey(node)}`,
        {
          node,
          region: spec.region,
          vpcUuid: args.vpcUuid,
          tags: dropletTags(node.role, args.tagNames).map(args.tag),
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
        { parent, ...legacyAliases(name, node) },
      ),
  );
}
