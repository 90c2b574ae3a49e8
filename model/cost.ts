import catalogJson from "./catalog.json";
import type { ClusterSpec } from "./schema";
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
  if (spec.provider === "hosts") return { ...source, estimated: false, reason: "existing machines, not estimated" };

  const table = catalog[spec.provider];
  const sizes = table.sizes as Record<string, { monthlyUsd: number }>;
  const nodes = planNodes(spec);
  const lines: CostLine[] = [];
  const machineUnit = spec.provider === "digitalocean" ? "droplet" : "instance";
  for (const kind of KIND_ORDER) {
    const bySize = new Map<string, number>();
    for (const n of nodes.filter((x) => machineKind(x.role) === kind)) bySize.set(n.size, (bySize.get(n.size) ?? 0) + 1);
    for (const [size, count] of bySize) {
      const price = sizes[size];
      if (!price) throw new Error(`model/catalog.json has no ${spec.provider} price for size ${size}`);
      lines.push(line(`${kind} ${size}`, count, machineUnit, price.monthlyUsd));
    }
  }
  const dataGb = 2 * (spec.volumes.dbGb + spec.volumes.shareGb);
  if (spec.provider === "digitalocean") {
    lines.push(line("block storage (DB + share on both database machines)", dataGb, "GB", catalog.digitalocean.volumeGbMonthUsd));
  } else {
    const aws = catalog.aws;
    lines.push(line("EBS gp3 (DB + share on both database machines)", dataGb, "GB", aws.volumeGbMonthUsd));
    lines.push(line(`EBS gp3 root disks (${AWS_ROOT_VOLUME_GB} GB each)`, AWS_ROOT_VOLUME_GB * nodes.length, "GB", aws.volumeGbMonthUsd));
    lines.push(line("public IPv4 (Elastic IP per node)", nodes.length, "address", aws.publicIpv4MonthlyUsd));
    lines.push(line("Route 53 health checks (one per child)", spec.childCount, "check", aws.route53HealthCheckMonthlyUsd));
    for (const [item, usd] of Object.entries(aws.fixedMonthlyUsd as Record<string, number>))
      lines.push(line(item === "route53HostedZone" ? "Route 53 hosted zone" : item, 1, "month", usd));
  }
  const totalMonthlyUsd = cents(lines.reduce((sum, l) => sum + l.monthlyUsd, 0));
  return {
    ...source,
    estimated: true,
    lines,
    totalMonthlyUsd,
    excludes: ["data transfer", "snapshots and backups", "taxes", "Route 53 queries"],
  };
}
