import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { planSubnets } from "../../plan";

/** Args of {@link AwsNetwork}. */
export interface AwsNetworkArgs {
  region: string;
  /** Availability zones, one public subnet each (at least two). */
  zones: string[];
  /** IPv4 range of the VPC. Defaults to `10.42.0.0/16` (one /20 per zone). */
  cidr?: string;
  tags: Record<string, string>;
  /** Name tag of the VPC, gateway and route table (model/names.ts). Defaults to the component's name. */
  nameTag?: string;
  /** Name tag per zone's subnet. Defaults to `<nameTag>-<zone>`. */
  subnetNameTags?: Record<string, string>;
}

/** A VPC with one public subnet per availability zone and a route to the Internet. */
export class AwsNetwork extends pulumi.ComponentResource {
  public readonly vpc: aws.ec2.Vpc;
  /** Subnet id per zone. */
  public readonly subnetIds: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: AwsNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("django-ha:aws:Network", name, {}, opts);
    const region = args.region;
    const cidr = args.cidr ?? "10.42.0.0/16";
    const nameTag = args.nameTag ?? name;
    this.vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { region, cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { ...args.tags, Name: nameTag } },
      { parent: this },
    );
    const gateway = new aws.ec2.InternetGateway(
      `${name}-igw`,
      { region, vpcId: this.vpc.id, tags: { ...args.tags, Name: nameTag } },
      { parent: this },
    );
    const routes = new aws.ec2.RouteTable(
      `${name}-routes`,
      { region, vpcId: this.vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }], tags: { ...args.tags, Name: nameTag } },
      { parent: this },
    );
    this.subnetIds = {};
    for (const s of planSubnets(cidr, args.zones)) {
      const subnet = new aws.ec2.Subnet(
        `${name}-subnet-${s.zone}`,
        {
          region,
          vpcId: this.vpc.id,
          availabilityZone: s.zone,
          cidrBlock: s.cidr,
          mapPublicIpOnLaunch: true,
          tags: { ...args.tags, Name: args.subnetNameTags?.[s.zone] ?? `${nameTag}-${s.zone}` },
        },
        { parent: this },
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-subnet-${s.zone}-routes`,
        { region, subnetId: subnet.id, routeTableId: routes.id },
        { parent: this },
      );
      this.subnetIds[s.zone] = subnet.id;
    }
    this.registerOutputs({ vpcId: this.vpc.id, subnetIds: this.subnetIds });
  }
}
