/** One subnet of the cluster's VPC: one per availability zone. */
export interface SubnetSpec {
  zone: string;
  cidr: string;
}

function ipToInt(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/**
 * Carve one subnet per zone out of an IPv4 VPC range, in zone order, each `newBits` longer than the VPC
 * prefix (a /16 with 4 new bits gives /20 subnets of 4,096 addresses). Pure; throws when they do not fit.
 */
export function planSubnets(vpcCidr: string, zones: string[], newBits = 4): SubnetSpec[] {
  const [base, bitsText] = vpcCidr.split("/");
  const prefix = Number(bitsText);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(base ?? "") || !Number.isInteger(prefix) || prefix < 8 || prefix > 28) {
    throw new Error(`vpcCidr ${JSON.stringify(vpcCidr)} must be an IPv4 range such as 10.42.0.0/16`);
  }
  const subnetPrefix = prefix + newBits;
  if (subnetPrefix > 28) throw new Error(`vpcCidr ${vpcCidr} is too small for /${subnetPrefix} subnets; use a /16`);
  if (zones.length > 2 ** newBits)
    throw new Error(`vpcCidr ${vpcCidr} holds only ${2 ** newBits} subnets of /${subnetPrefix}, not ${zones.length}`);
  const size = 2 ** (32 - subnetPrefix);
  const start = ipToInt(base) - (ipToInt(base) % 2 ** (32 - prefix));
  return zones.map((zone, i) => ({ zone, cidr: `${intToIp(start + i * size)}/${subnetPrefix}` }));
}

/** First and last address of an IPv4 CIDR, as integers. Exported for tests. */
export function cidrRange(cidr: string): [number, number] {
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  const start = ipToInt(base) - (ipToInt(base) % size);
  return [start, start + size - 1];
}
