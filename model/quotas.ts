/**
 * Default provider quotas a stack runs into, compared with what this stack alone creates (the account may
 * already use some). Shown by the offline plan with how to raise each one. Pure.
 */
import { unknownProvider, type ClusterSpec } from "./spec";
import { parseCidr } from "./cidr";
import { CLOUD_ICMP_TYPES } from "./firewall";
import { planNodes } from "./topology";

export interface QuotaCheck {
  /** What is limited, e.g. "Elastic IP addresses per region (eu-west-1)". */
  quota: string;
  /** The provider's default. */
  limit: number;
  /** What this stack creates against it. */
  needed: number;
  /** How to raise it. */
  raise: string;
  /** Where the default is written down. */
  source: string;
}

export const exceeds = (q: QuotaCheck): boolean => q.needed > q.limit;

/** The quotas of the spec's provider (none on hosts: nothing is created). Pure. */
export function quotaChecks(spec: ClusterSpec): QuotaCheck[] {
  const nodes = planNodes(spec).length;
  switch (spec.provider) {
    case "aws": {
      const families = spec.adminCidrs
        .map((c) => parseCidr(c))
        .filter((r) => r.ok)
        .map((r) => (r as { ok: true; cidr: { family: 4 | 6 } }).cidr.family);
      // Per family: one rule per admin CIDR plus one per ICMP type the group every node carries allows.
      const perFamily = (family: 4 | 6) =>
        families.filter((f) => f === family).length + CLOUD_ICMP_TYPES.filter((t) => t.family === family).length;
      const adminRules = Math.max(perFamily(4), perFamily(6));
      return [
        {
          quota: `Elastic IP addresses per region (${spec.region})`,
          limit: 5,
          needed: nodes,
          raise: `Service Quotas console, region ${spec.region} → Amazon EC2 → "EC2-VPC Elastic IPs" → Request increase, or: aws service-quotas request-service-quota-increase --region ${spec.region} --service-code ec2 --quota-code L-0263D0A3 --desired-value ${nodes + 2}`,
          source: "Amazon VPC quotas: Elastic IP addresses per Region, 5 (one per node here: the address survives a replacement)",
        },
        {
          quota: "Route 53 health checks per account",
          limit: 200,
          needed: spec.childCount,
          raise: `Service Quotas console, region us-east-1 → Amazon Route 53 → "Health checks" → Request increase`,
          source: "Route 53 quotas: 200 active health checks per AWS account (one per child here)",
        },
        {
          quota: "inbound rules per security group (admin: one per admin CIDR and per ICMP type, IPv4 and IPv6 counted apart)",
          limit: 60,
          needed: adminRules,
          raise: `Service Quotas console, region ${spec.region} → Amazon VPC → "Inbound or outbound rules per security group" (L-0EA8095F) → Request increase, or list fewer, wider django-ha:adminCidrs`,
          source: "Amazon VPC quotas: inbound or outbound rules per security group, 60, enforced separately for IPv4 and IPv6",
        },
      ];
    }
    case "digitalocean":
      return [
        {
          quota: "Droplets per account (new accounts)",
          limit: 3,
          needed: nodes,
          raise: `see yours with \`doctl account get\` (Droplet Limit) or in the control panel's account settings, and request an increase there (Settings → Droplet Limit → Increase); DigitalOcean also raises it as the account is used`,
          source:
            "DigitalOcean publishes no fixed default (docs.digitalocean.com/products/accounts: limits are raised after verification and on request); 3 is the lowest reported for new accounts",
        },
      ];
    case "hosts":
      return [];
    default:
      return unknownProvider(spec);
  }
}
