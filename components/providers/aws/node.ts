import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AWS_ROOT_VOLUME_GB } from "../../../model/cost";
import { DataDevices, ebsVolumeDevice, type PlannedNode } from "../../../model";
import { dataDevicesOf } from "../types";

/** Args of {@link AwsNode}. */
export interface AwsNodeArgs {
  node: PlannedNode;
  region: string;
  ami: pulumi.Input<string>;
  subnetId: pulumi.Input<string>;
  securityGroupIds: pulumi.Input<string>[];
  /** cloud-init user data with the SSH keys; later changes are ignored. */
  userData: string;
  /** EBS volumes to create in the instance's zone and attach, in order. Defaults to none. */
  volumes?: {
    purpose: "db" | "share";
    sizeGb: number;
    /** Name tag (model/names.ts). Defaults to `<node>-<purpose>`. */ nameTag?: string;
  }[];
  /** IAM instance profile (the database machines' DNS-01 role, {@link AcmeDnsRole}). Defaults to none. */
  iamInstanceProfile?: pulumi.Input<string>;
  /** Root disk size in GB. Defaults to 20 (AWS_ROOT_VOLUME_GB, which the cost estimate uses too). */
  rootGb?: number;
  tags: Record<string, string>;
}

/**
 * Device names the attachments ask for, in order. Only a hint: Nitro instances expose EBS as /dev/nvmeXn1 in
 * any order, so the bootstrap finds the volumes by id (ebsVolumeDevice), never by these names.
 */
export const EBS_DEVICES = ["/dev/sdf", "/dev/sdg"] as const;

/**
 * One EC2 instance with an Elastic IP (the address survives a replacement, so the public record and the
 * admins' known_hosts stay put) and its EBS volumes in the same availability zone.
 */
export class AwsNode extends pulumi.ComponentResource {
  public readonly instance: aws.ec2.Instance;
  public readonly eip: aws.ec2.Eip;
  public readonly volumes: aws.ebs.Volume[];
  public readonly publicAddress: pulumi.Output<string>;
  public readonly privateAddress: pulumi.Output<string>;
  /** Stable device paths of the DB and share volumes inside the instance (NVMe by-id, from the EBS volume ids); undefined without volumes. */
  public readonly dataDevices: pulumi.Output<DataDevices | undefined>;

  constructor(name: string, args: AwsNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("django-ha:aws:Node", name, {}, opts);
    const { node, region } = args;
    const tags = { ...args.tags, Name: node.name, "django-ha:role": node.role };
    this.instance = new aws.ec2.Instance(
      `${name}-instance`,
      {
        region,
        ami: args.ami,
        instanceType: node.size,
        availabilityZone: node.zone,
        subnetId: args.subnetId,
        vpcSecurityGroupIds: args.securityGroupIds,
        userData: args.userData,
        rootBlockDevice: { volumeSize: args.rootGb ?? AWS_ROOT_VOLUME_GB, volumeType: "gp3", encrypted: true },
        metadataOptions: { httpTokens: "required" },
        ...(args.iamInstanceProfile !== undefined ? { iamInstanceProfile: args.iamInstanceProfile } : {}),
        tags,
      },
      // The volume attachments cannot move to a new instance that exists alongside the old one.
      // A new AMI or user data must never replace a node: the bootstrap owns everything after first boot.
      { parent: this, deleteBeforeReplace: true, ignoreChanges: ["ami", "userData"] },
    );
    this.eip = new aws.ec2.Eip(`${name}-eip`, { region, domain: "vpc", instance: this.instance.id, tags }, { parent: this });

    this.volumes = [];
    let previous: pulumi.Resource | undefined;
    (args.volumes ?? []).forEach((v, i) => {
      const volume = new aws.ebs.Volume(
        `${name}-${v.purpose}-volume`,
        {
          region,
          availabilityZone: node.zone,
          size: v.sizeGb,
          type: "gp3",
          encrypted: true,
          tags: { ...tags, Name: v.nameTag ?? `${node.name}-${v.purpose}` },
        },
        // Data volumes hold the database and the share: `pulumi destroy` or a replacement must not delete them
        // silently. Removing a stack on purpose: `pulumi state unprotect --all`, then destroy.
        { parent: this, protect: true },
      );
      previous = new aws.ec2.VolumeAttachment(
        `${name}-${v.purpose}-attachment`,
        { region, deviceName: EBS_DEVICES[i], instanceId: this.instance.id, volumeId: volume.id, stopInstanceBeforeDetaching: true },
        { parent: this, dependsOn: previous ? [previous] : [] },
      );
      this.volumes.push(volume);
    });

    this.dataDevices = dataDevicesOf(
      args.volumes ?? [],
      this.volumes.map((v) => v.id.apply(ebsVolumeDevice)),
    );
    this.publicAddress = this.eip.publicIp;
    this.privateAddress = this.instance.privateIp;
    this.registerOutputs({ instanceId: this.instance.id, publicAddress: this.publicAddress, privateAddress: this.privateAddress });
  }
}
