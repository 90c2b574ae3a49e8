/**
 * Offline plan: what `pulumi up` would create for a stack, and what it would cost — without the Pulumi CLI,
 * credentials or network. Runs the real program (index.ts) under pulumi.runtime.setMocks with the stack
 * file's config (secure values replaced by placeholders) and renders every registered resource.
 * The command is scripts/plan-cli.ts (`npm run plan`), which loads this module only once it has work to do.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { describeDnsTarget, describeSource, planCluster } from "../components/plan";
import {
  appSummary,
  ClusterSpec,
  configFromKeys,
  healthDnsSecretKey,
  dataPlacement,
  decodeStackConfig,
  isSecureValue,
  parseClusterSpec,
  planNodes,
  PROJECT,
  readStackFile,
  rootDiskDataNote,
  SECRET_KEYS,
  specFromConfig,
  stackFile,
  STACKS_DIR,
} from "../model";
import { CostEstimate, estimateMonthlyCost } from "../model/cost";
import { exceeds, QuotaCheck, quotaChecks } from "../model/quotas";
import { MOCK_AMI_ID, MOCK_HOSTED_ZONE_ID, ProgramRun, RecordedResource, runProgram } from "../components/plan/offlineEngine";

/** Stands in for every secret the program reads; never a real value. */
export const SECRET_PLACEHOLDER = "offline-plan-secret-placeholder";

export interface PlanReport {
  source: string;
  spec: ClusterSpec;
  run: ProgramRun;
  cost: CostEstimate;
  notes: string[];
}

/** `django-ha:*` keys a stack file sets as secrets (secure values or known secret keys), without the prefix. */
export function secretKeysOf(file: string): string[] {
  const doc = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  return Object.entries(doc.config ?? {})
    .filter(
      ([k, v]) =>
        k.startsWith(`${PROJECT}:`) &&
        ((v !== null && typeof v === "object" && "secure" in v) ||
          (SECRET_KEYS as readonly string[]).includes(k.slice(PROJECT.length + 1))),
    )
    .map(([k]) => k.slice(PROJECT.length + 1));
}

/**
 * Plan a config (keys without the `django-ha:` prefix). Validates first (ConfigError), then runs the
 * program under mocks. `secretKeys` are the secrets the stack sets; the placeholders stand in for them.
 */
export async function planConfig(
  config: Record<string, unknown>,
  source: string,
  secretKeys: string[] = [],
  options: { debug?: boolean; stack?: string } = {},
): Promise<PlanReport> {
  const stack = options.stack ?? path.basename(source).replace(/^Pulumi\.|\.yaml$/g, "");
  const spec = parseClusterSpec(config, source, { stack });
  const notes: string[] = [];
  const secrets: Record<string, string> = Object.fromEntries(secretKeys.map((k) => [k, SECRET_PLACEHOLDER]));
  if (spec.provider === "hosts" && !secretKeys.includes("dnsTsigSecret")) {
    secrets.dnsTsigSecret = SECRET_PLACEHOLDER;
    notes.push(
      `${PROJECT}:dnsTsigSecret is not set in ${source} (this plan used a placeholder); \`pulumi up\` of this stack needs it: pulumi config set --secret ${PROJECT}:dnsTsigSecret <base64 TSIG secret>`,
    );
  }
  const healthKey = healthDnsSecretKey(spec);
  if (healthKey && healthKey !== "dnsTsigSecret" && !secretKeys.includes(healthKey)) {
    secrets[healthKey] = SECRET_PLACEHOLDER;
    notes.push(
      `${PROJECT}:${healthKey} is not set in ${source} (this plan used a placeholder); \`pulumi up\` of this stack needs the health agent's DNS credential: pulumi config set --secret ${PROJECT}:${healthKey} <${healthKey === "healthDnsToken" ? "DigitalOcean token scoped to domain read/update" : "base64 TSIG secret of health.dnsKeyName"}>, or set ${PROJECT}:health.enabled false`,
    );
  }
  const rootDisk = rootDiskDataNote(spec);
  if (rootDisk) notes.push(rootDisk);
  const run = await runProgram(config, { stack, secrets, stackTraces: options.debug ?? false });
  if (run.error) throw run.error;
  // What `pulumi up` would warn about at its end (e.g. the commands that finish a bootstrap without the key).
  notes.push(...run.warnings);
  if (secretKeys.includes("sshPrivateKey"))
    notes.push(
      `${PROJECT}:sshPrivateKey is set: \`pulumi up\` also bootstraps every node (Bootstrap resource), and again whenever the rendered plans change`,
    );
  return { source, spec, run, cost: estimateMonthlyCost(spec), notes };
}

/** Preview a stack file of stacks/ (or `dir`) offline: what `pulumi preview` would create, its cost and notes. */
export async function previewStackFile(stack: string, dir = STACKS_DIR, options: { debug?: boolean } = {}): Promise<PlanReport> {
  const all = readStackFile(stack, dir);
  const file = stackFile(stack, dir);
  const source = path.relative(process.cwd(), file) || file;
  // The whole file, as `pulumi up` would see it: the one decoder, and plain-text provider secrets refused.
  specFromConfig(all, { source, stack, isSecret: (k) => isSecureValue(all[k]) });
  return planConfig(configFromKeys(decodeStackConfig(all)), source, secretKeysOf(file), { ...options, stack });
}

// ---------- rendering (pure) ----------

const shortType = (type: string) => {
  const [pkg, mod, name] = type.split(":");
  return pkg === "django-ha" ? `${mod}:${name}` : `${pkg}:${name}`;
};

/** Names for made-up mock values (ids, addresses) so the plan says "address of shop-child-1", never a fake IP. */
function labeller(run: ProgramRun): (value: unknown) => string {
  const labels = new Map<string, string>([
    [MOCK_AMI_ID, "‹newest official Debian 13 AMI, looked up at first deploy›"],
    [MOCK_HOSTED_ZONE_ID, "‹Route 53 zone found by name›"],
  ]);
  for (const r of run.resources) {
    const label = String((r.inputs.tags as Record<string, string> | undefined)?.Name ?? r.inputs.name ?? r.name);
    labels.set(r.id, `‹${label}›`);
    if (r.type === "digitalocean:index/droplet:Droplet") {
      labels.set(String(r.state.ipv4Address), `‹${label} public address›`);
      labels.set(String(Number(r.id)), `‹${label}›`);
    }
    if (r.type === "aws:ec2/eip:Eip") labels.set(String(r.state.publicIp), `‹${label} public address›`);
  }
  return (value) => labels.get(String(value)) ?? String(value);
}

/** One line of what an operator checks on a resource. */
export function summarize(r: RecordedResource, label: (v: unknown) => string): string[] {
  const i = r.inputs as Record<string, unknown>;
  const tags = (i.tags ?? {}) as Record<string, string>;
  switch (r.type) {
    case "digitalocean:index/droplet:Droplet":
      return [`${i.name}  size ${i.size}  region ${i.region}  image ${i.image}  tags ${(i.tags as string[]).join(",")}`];
    case "digitalocean:index/volume:Volume":
      return [`${i.name}  ${i.size} GB ${i.initialFilesystemType}`];
    case "digitalocean:index/volumeAttachment:VolumeAttachment":
      return [`${label(i.volumeId)} → ${label(i.dropletId)}`];
    case "digitalocean:index/vpc:Vpc":
      return [`${i.name}  region ${i.region}  range ${i.ipRange ?? "picked by DigitalOcean"}`];
    case "digitalocean:index/tag:Tag":
      return [String(i.name)];
    case "digitalocean:index/firewall:Firewall": {
      const rules = ((i.inboundRules as Record<string, unknown>[]) ?? []).map(
        (x) =>
          `  in  ${x.protocol}/${x.portRange} from ${[...((x.sourceAddresses as string[]) ?? []), ...((x.sourceTags as string[]) ?? []).map((t) => `tag ${t}`)].join(", ")}`,
      );
      const out = ((i.outboundRules as Record<string, unknown>[]) ?? []).map(
        (x) => `  out ${x.protocol}${x.portRange ? `/${x.portRange}` : ""} to ${(x.destinationAddresses as string[]).join(", ")}`,
      );
      return [`${i.name}  on tags ${(i.tags as string[]).join(", ")}`, ...rules, ...out];
    }
    case "digitalocean:index/dnsRecord:DnsRecord":
      return [`${i.type} ${i.name === "@" ? "" : `${i.name}.`}${i.domain} → ${label(i.value)}  TTL ${i.ttl}`];
    case "aws:ec2/vpc:Vpc":
      return [`${i.cidrBlock}  region ${i.region}`];
    case "aws:ec2/subnet:Subnet":
      return [`${i.availabilityZone}  ${i.cidrBlock}`];
    case "aws:ec2/instance:Instance":
      return [
        `${tags.Name}  type ${i.instanceType}  zone ${i.availabilityZone}  ami ${label(i.ami)}  root ${(i.rootBlockDevice as Record<string, unknown>)?.volumeSize} GB`,
      ];
    case "aws:ec2/eip:Eip":
      return [`→ ${label(i.instance)}`];
    case "aws:ebs/volume:Volume":
      return [`${tags.Name}  ${i.size} GB ${i.type}  zone ${i.availabilityZone}`];
    case "aws:ec2/volumeAttachment:VolumeAttachment":
      return [`${label(i.volumeId)} as ${i.deviceName} → ${label(i.instanceId)}`];
    case "aws:ec2/securityGroup:SecurityGroup":
      return [String(i.description)];
    case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
    case "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
      const ingress = r.type.includes("Ingress");
      const port = i.fromPort === undefined ? "all" : i.fromPort === i.toPort ? String(i.fromPort) : `${i.fromPort}-${i.toPort}`;
      const peer = i.cidrIpv4 ?? i.cidrIpv6 ?? `members of ${label(i.referencedSecurityGroupId)}`;
      return [
        `${label(i.securityGroupId)} ${ingress ? "in " : "out"} ${i.ipProtocol === "-1" ? "all" : i.ipProtocol}/${port} ${ingress ? "from" : "to"} ${peer}`,
      ];
    }
    case "aws:route53/healthCheck:HealthCheck":
      return [`${i.type} ${label(i.ipAddress)}:${i.port}${i.resourcePath}  every ${i.requestInterval} s, ${i.failureThreshold} failures`];
    case "aws:route53/record:Record":
      return [
        `${i.type} ${i.name} in ${label(i.zoneId)} set ${i.setIdentifier} → ${(i.records as string[]).map(label).join(", ")}  TTL ${i.ttl}  multivalue, health check ${label(i.healthCheckId)}`,
      ];
    case "random:index/randomPassword:RandomPassword":
      return [`${i.length} characters (secret in state)`];
    default:
      return [];
  }
}

function renderTree(run: ProgramRun): string[] {
  const label = labeller(run);
  const children = new Map<string | undefined, RecordedResource[]>();
  for (const r of run.resources) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const lines: string[] = [];
  const walk = (parent: string | undefined, prefix: string) => {
    const list = children.get(parent) ?? [];
    // Components first (the machines), then plain resources grouped by type; names in natural order
    // (registration order of resources that wait on addresses is not deterministic).
    const typeOrder = (r: RecordedResource) => run.resources.findIndex((x) => x.type === r.type);
    const byName = (a: RecordedResource, b: RecordedResource) =>
      typeOrder(a) - typeOrder(b) || a.name.localeCompare(b.name, "en", { numeric: true });
    const ordered = [...list.filter((r) => !r.custom), ...list.filter((r) => r.custom).sort(byName)];
    ordered.forEach((r, idx) => {
      const last = idx === ordered.length - 1;
      const [head, ...rest] = summarize(r, label);
      lines.push(
        `${prefix}${parent === undefined ? "" : last ? "└─ " : "├─ "}${shortType(r.type)}  ${r.name}${r.protect ? "  [protected]" : ""}${head ? `  — ${head}` : ""}`,
      );
      const inner = parent === undefined ? "" : `${prefix}${last ? "   " : "│  "}`;
      for (const extra of rest) lines.push(`${inner}${r.custom ? "  " : "│ "}${extra}`);
      if (!r.custom) walk(r.name, inner);
    });
  };
  walk(undefined, "");
  return lines;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c])))
      .join("  ")
      .trimEnd(),
  );
}

export function renderCost(cost: CostEstimate): string[] {
  const head = `Estimated monthly cost (${cost.currency}, list prices recorded ${cost.recordedOn})`;
  if (!cost.estimated) return [head, `  ${cost.reason}`, `  source: ${cost.source}`];
  const money = (v: number) => v.toFixed(2);
  const rows = [
    ["item", "qty", "unit", "each", "monthly"],
    ...cost.lines.map((l) => [l.item, String(l.quantity), l.unit, money(l.unitMonthlyUsd), money(l.monthlyUsd)]),
  ];
  return [
    head,
    ...table(rows).map((l) => `  ${l}`),
    `  total ${money(cost.totalMonthlyUsd)} ${cost.currency}/month (excludes ${cost.excludes.join(", ")})`,
    `  source: ${cost.source}`,
  ];
}

/** The resources Pulumi refuses to delete (`protect: true`), as a list. Pure. */
export function renderProtected(run: ProgramRun, label: (v: unknown) => string): string[] {
  const protectedOnes = run.resources.filter((r) => r.protect);
  if (!protectedOnes.length)
    return ["Protected resources: none (nothing here holds data that a replacement or `pulumi destroy` could lose)"];
  return [
    "Protected resources (Pulumi refuses to delete or replace them: `pulumi destroy` stops at them; removing a stack on purpose: `pulumi state unprotect --all`, then destroy)",
    ...protectedOnes.map((r) => `  ${shortType(r.type)}  ${r.name}  — ${label(r.id)}`),
  ];
}

/** Default provider quotas against what this stack creates, with how to raise the ones it exceeds. Pure. */
export function renderQuotas(checks: QuotaCheck[]): string[] {
  if (!checks.length) return ["Quotas: none (the hosts target creates no provider resources)"];
  const lines = ["Quotas (provider defaults; this stack alone — the account may already use some)"];
  for (const q of checks) {
    const over = exceeds(q);
    lines.push(`  ${over ? "EXCEEDS" : "ok     "}  ${q.quota}: default ${q.limit}, this stack needs ${q.needed}`);
    if (over) lines.push(`           raise it: ${q.raise}`, `           (${q.source})`);
  }
  return lines;
}

/** The whole plan as text. Pure over the report. */
export function renderPlan(report: PlanReport, options: { tree?: boolean } = {}): string {
  const { spec, run } = report;
  const plan = planCluster(spec);
  const counts = new Map<string, number>();
  for (const r of run.resources) counts.set(shortType(r.type), (counts.get(shortType(r.type)) ?? 0) + 1);
  const out: string[] = [];
  out.push(`django-ha offline plan — ${report.source}`);
  out.push(
    `provider ${spec.provider}  region ${spec.region}  zones ${spec.zones.join(", ")}  children ${spec.childCount}  sync replication ${spec.syncReplication}`,
  );
  const standby = plan.nodes.find((n) => n.role === "standby")?.name;
  out.push(
    `primary ${spec.primary}  standby ${standby}  (django-ha:primary: the database machine that is the primary now; the failover runbook changes it)`,
  );
  out.push(appSummary(spec.app));
  out.push("");
  out.push(
    `Resources: ${run.resources.filter((r) => r.custom).length} provider resources in ${run.resources.filter((r) => !r.custom).length} components`,
  );
  out.push(...table([...counts].map(([t, n]) => [`  ${t}`, String(n)])));
  if (options.tree !== false) {
    out.push("", "Resource tree (grouped by component)");
    out.push(...renderTree(run).map((l) => `  ${l}`));
  }
  out.push("", "Nodes");
  out.push(
    ...table([
      ["name", "role", "size", "zone", "data"],
      ...plan.nodes.map((n) => [n.name, n.role, n.size, n.zone, dataPlacement(spec, n)]),
    ]).map((l) => `  ${l}`),
  );
  out.push(
    "",
    spec.provider === "hosts"
      ? "Firewall (inbound; no cloud firewall on the hosts target: the rules each node's own firewall must enforce)"
      : "Firewall (inbound; everything else is refused)",
  );
  for (const g of plan.firewall) {
    for (const r of g.inbound)
      out.push(
        `  ${g.roles.join("+").padEnd(29)} ${r.protocol}/${String(r.port).padEnd(5)} from ${describeSource(r.source)}  — ${r.purpose}`,
      );
  }
  out.push("", "Public record");
  out.push(
    `  ${plan.record.fqdn}  A  TTL ${plan.record.ttl} s  members (children only): ${plan.record.members.map((m) => m.name).join(", ")}`,
  );
  out.push(`  via ${describeDnsTarget(spec)}`);
  out.push("", ...renderProtected(run, labeller(run)));
  out.push("", ...renderQuotas(quotaChecks(spec)));
  out.push("", ...renderCost(report.cost));
  if (report.notes.length) out.push("", "Notes", ...report.notes.map((n) => `  - ${n}`));
  return out.join("\n");
}

/** Inputs with secret values (and a dynamic provider's serialized code) left out: the plan prints them. Pure. */
export function redactSecrets(inputs: Record<string, unknown>): Record<string, unknown> {
  // The engine's wire form of a secret, which the mocks see: { [specialSigKey]: specialSecretSig, value }.
  const secret = (v: unknown) =>
    typeof v === "object" && v !== null && (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;
  return Object.fromEntries(
    Object.entries(inputs)
      .filter(([k]) => k !== "__provider")
      .map(([k, v]) => [k, secret(v) ? "[secret]" : v]),
  );
}

/** The `--json` form of a plan: primary/standby, every resource with its (redacted) inputs, the quotas and the cost. Pure. */
export function renderPlanJson(report: PlanReport): string {
  const resources = report.run.resources.map((r) => ({
    type: r.type,
    name: r.name,
    parent: r.parent,
    protect: r.protect,
    inputs: r.type.startsWith("random:") ? { length: r.inputs.length } : redactSecrets(r.inputs),
  }));
  const quotas = quotaChecks(report.spec).map((q) => ({ ...q, exceeds: exceeds(q) }));
  const standby = planNodes(report.spec).find((n) => n.role === "standby")?.name;
  return JSON.stringify(
    { source: report.source, primary: report.spec.primary, standby, resources, quotas, cost: report.cost, notes: report.notes },
    null,
    2,
  );
}
