import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { DataDevices, digitalOceanVolumeDevice, type PlannedNode } from "../../../model";
import { dataDevicesOf } from "../types";
import { DIGITALOCEAN_IMAGE } from "../../../model/debian";

/** Args of {@link DigitalOceanNode}. */
export interface DigitalOceanNodeArgs {
  node: PlannedNode;
  region: string;
  vpcUuid: pulumi.Input<string>;
  /** Tag names (they must exist: pass the Tag resources' names). */
  tags: pulumi.Input<string>[];
  /** cloud-init user data with the SSH keys; later changes are ignored (they would replace the droplet). */
  userData: string;
  /** DigitalOcean SSH keys (ids or fingerprints) put on the droplet at creation; later changes are ignored. */
  sshKeys: pulumi.Input<string>[];
  /** Volumes to create and attach, in order (parent and standby: the DB volume, then the share volume). Defaults to none. */
  volumes?: {
    purpose: "db" | "share";
    sizeGb: number;
    /** Unique per region (model/names.ts `digitalOceanNames.volume`). */ name: string;
  }[];
  /** Droplet image slug. Defaults to `debian-13-x64` (model/debian.ts). */
  image?: string;
}

/** One droplet and its block volumes. Volume attachments are chained: DigitalOcean runs one action per droplet at a time. */
export class DigitalOceanNode extends pulumi.ComponentResource {
  public readonly droplet: digitalocean.Droplet;
  /** The droplet id as the number Firewall and VolumeAttachment want (converted once, here). */
  public readonly dropletId: pulumi.Output<number>;
  public readonly volumes: digitalocean.Volume[];
  public readonly publicAddress: pulumi.Output<string>;
  public readonly privateAddress: pulumi.Output<string>;
  /** Stable device paths of the DB and share volumes inside the droplet; undefined without volumes. */
  public readonly dataDevices: pulumi.Output<DataDevices | undefined>;

  constructor(name: string, args: DigitalOceanNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("django-ha:digitalocean:Node", name, {}, opts);
    const { node } = args;
    this.droplet = new digitalocean.Droplet(
      `${name}-droplet`,
      {
        name: node.name,
        image: args.image ?? DIGITALOCEAN_IMAGE,
        region: args.region,
        size: node.size,
        vpcUuid: args.vpcUuid,
        tags: args.tags,
        userData: args.userData,
        sshKeys: args.sshKeys,
        monitoring: true,
        gracefulShutdown: true,
      },
      // The bootstrap does everything after first boot; never replace a node for a new image or user data.
      { parent: this, ignoreChanges: ["image", "userData", "sshKeys"] },
    );
    this.dropletId = this.droplet.id.apply((id) => Number(id));

    this.volumes = [];
    let previous: pulumi.Resource | undefined;
    for (const v of args.volumes ?? []) {
      const volume = new digitalocean.Volume(
        `${name}-${v.purpose}-volume`,
        {
          name: v.name,
          region: args.region,
          size: v.sizeGb,
          initialFilesystemType: "ext4",
          description: `${v.purpose === "db" ? "PostgreSQL data" : "NFS share"} of ${node.name}`,
        },
        // Data volumes hold the database and the share: `pulumi destroy` or a replacement must not delete them
        // silently. Removing a stack on purpose: `pulumi state unprotect --all`, then destroy.
        // A volume's name cannot change in place (the provider replaces it): a volume created under an older
        // naming keeps its name rather than being replaced.
        { parent: this, protect: true, ignoreChanges: ["name"] },
      );
      previous = new digitalocean.VolumeAttachment(
        `${name}-${v.purpose}-attachment`,
        { dropletId: this.dropletId, volumeId: volume.id },
        { parent: this, dependsOn: previous ? [previous] : [] },
      );
      this.volumes.push(volume);
    }

    this.dataDevices = dataDevicesOf(
      args.volumes ?? [],
      this.volumes.map((v) => v.name.apply(digitalOceanVolumeDevice)),
    );
    this.publicAddress = this.droplet.ipv4Address;
    this.privateAddress = this.droplet.ipv4AddressPrivate;
    this.registerOutputs({ dropletId: this.dropletId, publicAddress: this.publicAddress, privateAddress: this.privateAddress });
  }
}
