import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { RecordMember } from "../../../ops/dns/types";

/** Args of {@link AwsRoundRobinRecord}. */
export interface AwsRoundRobinRecordArgs {
  zoneId: pulumi.Input<string>;
  fqdn: string;
  ttl: number;
  /** The children and their public addresses. */
  members: {
    name: string;
    address: pulumi.Input<string>;
    /** Name tag of its health check. Defaults to `<name> <fqdn>`. */ healthCheckName?: string;
  }[];
  /** Path the health checks request over HTTPS. Defaults to `/health/`. */
  healthPath?: string;
  tags: Record<string, string>;
}

/**
 * A Route 53 multivalue-answer record: one A record per child (setIdentifier = the child's name), each
 * with an HTTPS health check on the child's public address, so Route 53 answers with up to 8 healthy
 * children. Health checkers reach the children on 443, which is public on children anyway.
 */
export class AwsRoundRobinRecord extends pulumi.ComponentResource {
  public readonly healthChecks: aws.route53.HealthCheck[];
  public readonly records: aws.route53.Record[];
  public readonly members: pulumi.Output<RecordMember[]>;

  constructor(name: string, args: AwsRoundRobinRecordArgs, opts?: pulumi.ComponentResourceOptions) {
    super("django-ha:aws:RoundRobinRecord", name, {}, opts);
    this.healthChecks = [];
    this.records = [];
    for (const m of args.members) {
      const check = new aws.route53.HealthCheck(
        `${name}-health-${m.name}`,
        {
          type: "HTTPS",
          ipAddress: m.address,
          port: 443,
          resourcePath: args.healthPath ?? "/health/",
          fqdn: args.fqdn,
          enableSni: true,
          requestInterval: 30,
          failureThreshold: 3,
          tags: { ...args.tags, Name: m.healthCheckName ?? `${m.name} ${args.fqdn}` },
        },
        { parent: this },
      );
      this.healthChecks.push(check);
      this.records.push(
        new aws.route53.Record(
          `${name}-${m.name}`,
          {
            zoneId: args.zoneId,
            name: args.fqdn,
            type: "A",
            ttl: args.ttl,
            records: [m.address],
            setIdentifier: m.name,
            multivalueAnswerRoutingPolicy: true,
            healthCheckId: check.id,
          },
          { parent: this },
        ),
      );
    }
    this.members = pulumi.all(
      args.members.map((m) => pulumi.output(m.address).apply((address): RecordMember => ({ name: m.name, address }))),
    );
    this.registerOutputs({ members: this.members });
  }
}
