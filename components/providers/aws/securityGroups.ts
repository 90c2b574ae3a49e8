import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Role } from "../../../model";
import { groupsFor, type FirewallGroup } from "../../plan";
import { planSecurityGroupRules, ruleSuffix } from "./rules";

/** Args of {@link AwsSecurityGroups}. */
export interface AwsSecurityGroupsArgs {
  region: string;
  vpcId: pulumi.Input<string>;
  clusterName: string;
  groups: FirewallGroup[];
  tags: Record<string, string>;
  /** Name tag per group (model/names.ts). Defaults to `<clusterName>-<group>`. */
  nameTags?: Record<string, string>;
}

/** One security group per firewall group of the plan, with standalone ingress/egress rule resources. */
export class AwsSecurityGroups extends pulumi.ComponentResource {
  public readonly groups: Record<string, aws.ec2.SecurityGroup>;
  private readonly plan: FirewallGroup[];

  constructor(name: string, args: AwsSecurityGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("django-ha:aws:SecurityGroups", name, {}, opts);
    const { region } = args;
    this.plan = args.groups;
    this.groups = {};
    for (const g of args.groups) {
      this.groups[g.name] = new aws.ec2.SecurityGroup(
        `${name}-${g.name}`,
        // No fixed name: Pulumi auto-names it, so a replacement can be created before the old one is gone.
        {
          region,
          vpcId: args.vpcId,
          description: `django-ha ${args.clusterName}: ${g.name} (${g.roles.join(", ")})`,
          tags: { ...args.tags, Name: args.nameTags?.[g.name] ?? `${args.clusterName}-${g.name}` },
        },
        { parent: this },
      );
    }
    for (const rule of planSecurityGroupRules(args.groups)) {
      const common = {
        region,
        securityGroupId: this.groups[rule.group].id,
        ipProtocol: rule.ipProtocol,
        fromPort: rule.fromPort,
        toPort: rule.toPort,
        cidrIpv4: rule.cidrIpv4,
        cidrIpv6: rule.cidrIpv6,
        referencedSecurityGroupId: rule.referencedGroup ? this.groups[rule.referencedGroup].id : undefined,
        description: rule.description,
        tags: args.tags,
      };
      if (rule.direction === "ingress") new aws.vpc.SecurityGroupIngressRule(`${name}-${ruleSuffix(rule)}`, common, { parent: this });
      else new aws.vpc.SecurityGroupEgressRule(`${name}-${ruleSuffix(rule)}`, common, { parent: this });
    }
    this.registerOutputs({ groupIds: Object.fromEntries(Object.entries(this.groups).map(([k, g]) => [k, g.id])) });
  }

  /** Ids of the groups a node of `role` carries. */
  idsFor(role: Role): pulumi.Output<string>[] {
    return groupsFor(this.plan, role).map((g) => this.groups[g.name].id);
  }
}
