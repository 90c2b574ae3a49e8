import catalogJson from "./catalog.json";
import { unknownProvider, type AwsSpec, type ClusterSpec, type DigitalOceanSpec } from "./spec";
import { machineKind, MachineKind, planNodes } from "./topology";

/** Root disk of each EC2 instance (gp3). The AWS machines use the same figure. */
export const AWS_ROOT_VOLUME_GB = 20;

export type Catalog = typeof catalogJson;

/** One line of a monthly estimate. */
export interface CostLine {
  item: string;
  quantity: number;
  /** What one unit is: "droplet", "GB", "address", … */
  unit: string;
  unitMonthlyUsd: number;
  monthlyUsd: number;
}

interface PriceSource {
  /** When the price table was transcribed (model/catalog.json `recordedOn`). */
  recordedOn: string;
  source: string;
  currency: string;
}

export type CostEstimate =
  | (PriceSource & { estimated: true; lines: CostLine[]; totalMonthlyUsd: number; excludes: string[] })
  | (PriceSource & { estimated: false; reason: string });

const cents = (usd: number) => Math.round(usd * 100) / 100;

function line(item: string, quantity: number, unit: string, unitMonthlyUsd: number): CostLine {
  return { item, quantity, unit, unitMonthlyUsd, monthlyUsd: cents(quantity * unitMonthlyUsd) };
}

const KIND_ORDER: MachineKind[] = ["db", "child", "worker"];

/**
 * Estimated monthly cost of a cluster from the price table (list prices, on-demand, 730 h). Pure.
 * Machines grouped by kind (db, child, worker) and size, block storage, and on AWS public IPv4 addresses, Route 53 health
 * checks and the hosted zone. Traffic, snapshots and taxes are not included (listed in `excludes`).
 */
export function estimateMonthlyCost(spec: ClusterSpec, catalog: Catalog = catalogJson): CostEstimate {
  const source: PriceSource = { recordedOn: catalog.recordedOn, source: catalog.source, currency: catalog.currency };
  switch (spec.provider) {
    case "hosts":
      return { ...source, estimated: false, reason: "existing machines, not estimated" };
    case "digitalocean":
      return estimate(source, [...machineLines(spec, catalog.digitalocean.sizes, "droplet"), ...digitalOceanLines(spec, catalog)]);
    case "aws":
      return estimate(source, [...machineLines(spec, catalog.aws.sizes, "instance"), ...awsLines(spec, catalog)]);
    default:
      return unknownProvider(spec);
  }
}

function estimate(source: PriceSource, lines: CostLine[]): CostEstimate {
  const totalMonthlyUsd = cents(lines.reduce((sum, l) => sum + l.monthlyUsd, 0));
  return {
    ...source,
    estimated: true,
    lines,
    totalMonthlyUsd,
    excludes: ["data transfer", "snapshots and backups", "taxes", "Route 53 queries"],
  };
}

/** The machines, grouped by kind (db, child, worker) and size. */
function machineLines(spec: DigitalOceanSpec | AwsSpec, table: Record<string, { monthlyUsd: number }>, unit: string): CostLine[] {
  const nodes = planNodes(spec);
  const lines: CostLine[] = [];
  for (const kind of KIND_ORDER) {
    const bySize = new Map<string, number>();
    for (const n of nodes.filter((x) => machineKind(x.role) === kind)) bySize.set(n.size, (bySize.get(n.size) ?? 0) + 1);
    for (const [size, count] of bySize) {
      const price = table[size];
      if (!price) throw new Error(`model/catalog.json has no ${spec.provider} price for size ${size}`);
      lines.push(line(`${kind} ${size}`, count, unit, price.monthlyUsd));
    }
  }
  return lines;
}

const dataGb = (spec: ClusterSpec) => 2 * (spec.volumes.dbGb + spec.volumes.shareGb);

function digitalOceanLines(spec: DigitalOceanSpec, catalog: Catalog): CostLine[] {
  return [line("block storage (DB + share on both database machines)", dataGb(spec), "GB", catalog.digitalocean.volumeGbMonthUsd)];
}

/** EBS (data and root disks), an Elastic IP per node, a Route 53 health check per child, the fixed monthly items. */
function awsLines(spec: AwsSpec, catalog: Catalog): CostLine[] {
  const aws = catalog.aws;
  const nodes = planNodes(spec).length;
  return [
    line("EBS gp3 (DB + share on both database machines)", dataGb(spec), "GB", aws.volumeGbMonthUsd),
    line(`EBS gp3 root disks (${AWS_ROOT_VOLUME_GB} GB each)`, AWS_ROOT_VOLUME_GB * nodes, "GB", aws.volumeGbMonthUsd),
    line("public IPv4 (Elastic IP per node)", nodes, "address", aws.publicIpv4MonthlyUsd),
    line("Route 53 health checks (one per child)", spec.childCount, "check", aws.route53HealthCheckMonthlyUsd),
    ...Object.entries(aws.fixedMonthlyUsd as Record<string, number>).map(([item, usd]) =>
      line(item === "route53HostedZone" ? "Route 53 hosted zone" : item, 1, "month", usd),
    ),
  ];
}
