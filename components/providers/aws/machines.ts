import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { RecordMember } from "../../../ops/dns/types";
import { awsBaseTags, awsNames, machineKind, type AwsSpec, type InventoryNode } from "../../../model";
import { AWS_DEBIAN_AMI } from "../../../model/debian";
import { legacyAliases, nodeKey, renderUserData } from "../../plan";
import { createdNode, inventoryNodesOf, machineIdsOf, type Machines, type MachinesArgs } from "../types";
import { AcmeDnsRole } from "./acmeRole";
import { AwsNetwork } from "./network";
import { AwsNode } from "./node";
import { AwsRoundRobinRecord } from "./record";
import { AwsSecurityGroups } from "./securityGroups";

/** Owner id of the official Debian cloud images (model/catalog.json aws.ami). */
export const DEBIAN_AMI_OWNER = AWS_DEBIAN_AMI.owner;

/** Args of {@link AwsMachines}. */
export interface AwsMachinesArgs extends MachinesArgs<AwsSpec> {
  /** AMI id to pin. Defaults to the newest official Debian amd64 AMI of model/debian.ts (Debian 13, `debian-13-amd64-*`) at first deploy; later AMI changes are ignored, so no new AMI ever replaces a database node. */
  ami?: string;
  /** IPv4 range of the VPC. Defaults to `10.42.0.0/16`. */
  vpcCidr?: string;
}

/**
 * The AWS target: a VPC with a subnet per availability zone, an EC2 instance with an Elastic IP per
 * planned node (Debian 13), EBS volumes for the DB and the share on the parent and the standby, security
 * groups with standalone rules, and a Route 53 multivalue record with a health check per child.
 */
export class AwsMachines extends pulumi.ComponentResource implements Machines {
  public readonly network: AwsNetwork;
  public readonly securityGroups: AwsSecurityGroups;
  public readonly nodeResources: AwsNode[];
  public readonly record: AwsRoundRobinRecord;
  /** DNS-01 only: the database machines' instance role that may write `_acme-challenge` TXT records. */
  public readonly acmeDnsRole: AcmeDnsRole | undefined;
  public readonly nodes: pulumi.Output<InventoryNode[]>;
  public readonly recordMembers: pulumi.Output<RecordMember[]>;
  public readonly hostedZoneId: pulumi.Output<string | undefined>;
  public readonly machineIds: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: AwsMachinesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("django-ha:aws:Machines", name, {}, opts);
    const { plan } = args;
    const { spec } = plan;
    const region = spec.region;
    const tags = awsBaseTags(spec);

    this.network = new AwsNetwork(
      `${name}-network`,
      {
        region,
        zones: spec.zones,
        cidr: args.vpcCidr,
        tags,
        nameTag: awsNames.network(spec),
        subnetNameTags: Object.fromEntries(spec.zones.map((z) => [z, awsNames.subnet(spec, z)])),
      },
      { parent: this },
    );
    this.securityGroups = new AwsSecurityGroups(
      `${name}-sg`,
      {
        region,
        vpcId: this.network.vpc.id,
        clusterName: spec.clusterName,
        groups: plan.firewall,
        tags,
        nameTags: Object.fromEntries(plan.firewall.map((g) => [g.name, awsNames.securityGroup(spec, g.name)])),
      },
      { parent: this },
    );

    const ami = args.ami ?? debianAmi(region, this);
    const zoneId = hostedZoneOf(spec, this);
    // Least privilege: the role exists only while the certificate is validated by DNS-01.
    this.acmeDnsRole =
      spec.certificate.challenge === "dns-01"
        ? new AcmeDnsRole(`${name}-acme-dns`, { hostedZoneId: zoneId, tags }, { parent: this })
        : undefined;
    this.nodeResources = createInstances(
      name,
      { plan, ami, network: this.network, securityGroups: this.securityGroups, acmeDnsRole: this.acmeDnsRole, tags },
      this,
    );

    this.record = new AwsRoundRobinRecord(
      `${name}-record`,
      {
        zoneId,
        fqdn: plan.record.fqdn,
        ttl: plan.record.ttl,
        healthPath: spec.app.healthPath,
        members: plan.record.members.map((c) => ({
          name: c.name,
          address: createdNode(plan.nodes, this.nodeResources, c.name).publicAddress,
          healthCheckName: awsNames.healthCheck(spec, c.name, plan.record.fqdn),
        })),
        tags,
      },
      { parent: this },
    );

    this.nodes = inventoryNodesOf(plan.nodes, this.nodeResources);
    this.machineIds = machineIdsOf(
      plan.nodes,
      this.nodeResources.map((r) => r.instance.id),
    );
    this.recordMembers = this.record.members;
    this.hostedZoneId = zoneId;
    this.registerOutputs({ vpcId: this.network.vpc.id, nodes: this.nodes, recordMembers: this.recordMembers, hostedZoneId: zoneId });
  }
}

/** The newest official Debian AMI of model/debian.ts in `region`, looked up at first deploy. */
function debianAmi(region: string, parent: pulumi.Resource): pulumi.Output<string> {
  return aws.ec2
    .getAmiOutput(
      {
        region,
        owners: [DEBIAN_AMI_OWNER],
        mostRecent: true,
        filters: [
          { name: "name", values: [AWS_DEBIAN_AMI.namePattern] },
          { name: "architecture", values: [AWS_DEBIAN_AMI.architecture] },
        ],
      },
      { parent },
    )
    .apply((a) => a.id);
}

/** django-ha:hostedZoneId, or the public Route 53 zone named like the domain. */
function hostedZoneOf(spec: AwsSpec, parent: pulumi.Resource): pulumi.Output<string> {
  return spec.hostedZoneId
    ? pulumi.output(spec.hostedZoneId)
    : aws.route53.getZoneOutput({ name: spec.domain, privateZone: false }, { parent }).apply((z) => z.zoneId);
}

interface InstancesArgs {
  plan: MachinesArgs<AwsSpec>["plan"];
  ami: pulumi.Input<string>;
  network: AwsNetwork;
  securityGroups: AwsSecurityGroups;
  acmeDnsRole: AcmeDnsRole | undefined;
  tags: Record<string, string>;
}

/** An EC2 instance (with its EBS volumes on the database machines) per planned node, in plan order. */
function createInstances(name: string, args: InstancesArgs, parent: pulumi.Resource): AwsNode[] {
  const { spec, nodes } = args.plan;
  const userData = renderUserData({ sshPublicKeys: spec.sshPublicKeys, user: spec.ssh.user, port: spec.ssh.port });
  return nodes.map((node) => {
    const database = machineKind(node.role) === "db";
    return new AwsNode(
      `${name}-${nodeKey(node)}`,
      {
        node,
        region: spec.region,
        ami: args.ami,
        subnetId: args.network.subnetIds[node.zone],
        securityGroupIds: args.securityGroups.idsFor(node.role),
        userData,
        iamInstanceProfile: database ? args.acmeDnsRole?.instanceProfile.name : undefined,
        volumes: database
          ? [
              { purpose: "db", sizeGb: spec.volumes.dbGb, nameTag: awsNames.volume(spec, nodeKey(node), "db") },
              { purpose: "share", sizeGb: spec.volumes.shareGb, nameTag: awsNames.volume(spec, nodeKey(node), "share") },
            ]
          : [],
        tags: args.tags,
      },
      { parent, ...legacyAliases(name, node) },
    );
  });
}
