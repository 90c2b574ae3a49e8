import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** An IAM policy document (the subset this project writes). */
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: {
    Sid: string;
    Effect: "Allow";
    Action: string | string[];
    Resource: string;
    Condition?: Record<string, Record<string, string[]>>;
  }[];
}

/**
 * What the renewal agent may do in Route 53 for DNS-01, and nothing more: change records of the one hosted
 * zone only when EVERY change is a TXT record named `_acme-challenge.…` (the normalized-name and record-type
 * condition keys), list that zone's records, and wait for its changes. It cannot touch the A records the
 * site depends on, nor any other zone. Pure.
 */
export function acmeRoute53Policy(hostedZoneId: string): PolicyDocument {
  const zone = `arn:aws:route53:::hostedzone/${hostedZoneId.replace(/^\/?hostedzone\//, "")}`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AcmeChallengeTxtOnly",
        Effect: "Allow",
        Action: "route53:ChangeResourceRecordSets",
        Resource: zone,
        Condition: {
          "ForAllValues:StringLike": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"] },
          "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"] },
        },
      },
      { Sid: "ReadTheZone", Effect: "Allow", Action: "route53:ListResourceRecordSets", Resource: zone },
      { Sid: "WaitForChanges", Effect: "Allow", Action: "route53:GetChange", Resource: "arn:aws:route53:::change/*" },
    ],
  };
}

/** Args of {@link AcmeDnsRole}. */
export interface AcmeDnsRoleArgs {
  /** The Route 53 hosted zone of the record (and of the `_acme-challenge` TXT records). */
  hostedZoneId: pulumi.Input<string>;
  tags: Record<string, string>;
}

/**
 * The database machines' instance role for DNS-01 on Route 53: the renewal agent gets its credentials from
 * the instance metadata (IMDSv2), so no key is stored anywhere; the policy is {@link acmeRoute53Policy}.
 */
export class AcmeDnsRole extends pulumi.ComponentResource {
  public readonly role: aws.iam.Role;
  public readonly policy: aws.iam.RolePolicy;
  public readonly instanceProfile: aws.iam.InstanceProfile;

  constructor(name: string, args: AcmeDnsRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("django-ha:aws:AcmeDnsRole", name, {}, opts);
    // Only EC2 instances (the database machines, through the instance profile) may assume it.
    const assume = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    };
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: "django-ha: DNS-01 TXT records for the renewal agent on the database machines",
        assumeRolePolicy: JSON.stringify(assume),
        tags: args.tags,
      },
      { parent: this },
    );
    this.policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      { role: this.role.id, policy: pulumi.output(args.hostedZoneId).apply((id) => JSON.stringify(acmeRoute53Policy(id))) },
      { parent: this },
    );
    this.instanceProfile = new aws.iam.InstanceProfile(`${name}-profile`, { role: this.role.name, tags: args.tags }, { parent: this });
    this.registerOutputs({ roleArn: this.role.arn, instanceProfile: this.instanceProfile.name });
  }
}
