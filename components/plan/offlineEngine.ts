/**
 * The offline engine: run the Pulumi program (index.ts) under pulumi.runtime.setMocks and record every resource
 * it registers with its inputs. Production code: `npm run plan` (a user command: no CLI, no credentials, no
 * network; every provider call is answered here, deterministically) and the program tests both run it.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../../model";

/** One registered resource, as the engine would have received it. */
export interface RecordedResource {
  type: string;
  name: string;
  /** Resolved inputs (secrets unwrapped: the mocks see plain values). */
  inputs: Record<string, unknown>;
  /** false for ComponentResources. */
  custom: boolean;
  id: string;
  /** Outputs the mock answered with (inputs plus made-up ids and addresses). */
  state: Record<string, unknown>;
  urn: string;
  /** Name of the parent resource (a component), when it has one. */
  parent?: string;
  /** Names of the resources it depends on: explicit `dependsOn` and the ones its inputs come from. */
  dependsOn: string[];
  /** `protect: true`: Pulumi refuses to delete it until unprotected. */
  protect: boolean;
  /** Names (or URNs) the resource was known by before: its `aliases` option, as sent to the engine. */
  aliases: string[];
}

/** An OpenSSH public key's MD5 fingerprint, aa:bb:…, as DigitalOcean reports it. */
export function md5Fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? "", "base64");
  return (createHash("md5").update(blob).digest("hex").match(/../g) ?? []).join(":");
}

/** Documentation ranges (RFC 5737) for made-up public addresses: 762 of them, enough for 500 children. */
const PUBLIC_RANGES = ["203.0.113", "198.51.100", "192.0.2"];

function publicAddress(n: number): string {
  const range = PUBLIC_RANGES[Math.floor((n - 1) / 254) % PUBLIC_RANGES.length];
  return `${range}.${((n - 1) % 254) + 1}`;
}

function privateAddress(n: number, prefix: string): string {
  return `${prefix}.${Math.floor(n / 254)}.${(n % 254) + 1}`;
}

/** What the mocks answer for the Debian 13 AMI lookup and the Route 53 zone lookup. */
export const MOCK_AMI_ID = "ami-0d1e2b3i4a5n61200";
export const MOCK_HOSTED_ZONE_ID = "Z0MOCKHOSTEDZONE";

/** Mocks that answer like the providers would, deterministically, and remember what was registered. */
export class RecordingMocks implements pulumi.runtime.Mocks {
  readonly resources: RecordedResource[] = [];
  readonly calls: pulumi.runtime.MockCallArgs[] = [];
  private machines = 0;

  newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const inputs = (args.inputs ?? {}) as Record<string, unknown>;
    let id = `${args.name}-id`;
    let extra: Record<string, unknown> = {};
    switch (args.type) {
      case "digitalocean:index/droplet:Droplet": {
        const n = ++this.machines;
        id = String(400000000 + n);
        extra = { ipv4Address: publicAddress(n), ipv4AddressPrivate: privateAddress(n, "10.110"), urn: `do:droplet:${id}` };
        break;
      }
      case "digitalocean:index/sshKey:SshKey":
        // DigitalOcean answers with the key's MD5 fingerprint (what droplets' sshKeys accept besides the id).
        id = String(1000000 + this.resources.filter((r) => r.type === args.type).length + 1);
        extra = { fingerprint: md5Fingerprint(String(inputs.publicKey)) };
        break;
      case "digitalocean:index/vpc:Vpc":
        extra = { ipRange: inputs.ipRange ?? "10.110.0.0/20" };
        break;
      case "aws:ec2/instance:Instance": {
        const n = ++this.machines;
        id = `i-${n.toString(16).padStart(17, "0")}`;
        extra = { privateIp: privateAddress(n, "10.42"), publicIp: "" };
        break;
      }
      case "aws:ec2/eip:Eip": {
        extra = { publicIp: publicAddress(this.resources.filter((r) => r.type === args.type).length + 1) };
        break;
      }
      case "aws:ebs/volume:Volume":
        // EBS ids as AWS gives them (vol- and 17 hex digits): the NVMe by-id path is derived from them.
        id = `vol-${(0xe000 + this.resources.filter((r) => r.type === args.type).length + 1).toString(16).padStart(17, "0")}`;
        break;
      case "random:index/randomPassword:RandomPassword":
        extra = { result: "m".repeat(Number(inputs.length ?? 16)) };
        break;
      case "aws:iam/role:Role":
      case "aws:iam/instanceProfile:InstanceProfile":
        // IAM autonames these (name + random suffix); the arn follows from the name.
        extra = {
          name: inputs.name ?? `${args.name}-1a2b3c4`,
          arn: `arn:aws:iam::123456789012:${args.type.includes("role") ? "role" : "instance-profile"}/${inputs.name ?? `${args.name}-1a2b3c4`}`,
        };
        break;
      default:
        break;
    }
    const state = { ...inputs, ...extra };
    this.resources.push({
      type: args.type,
      name: args.name,
      inputs,
      custom: args.custom ?? true,
      id,
      state,
      urn: "",
      dependsOn: [],
      protect: false,
      aliases: [],
    });
    return { id: args.custom === false ? undefined : id, state };
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    this.calls.push(args);
    switch (args.token) {
      case "aws:ec2/getAmi:getAmi":
        return { id: MOCK_AMI_ID, name: "debian-13-amd64-20261101-0000", architecture: "x86_64" };
      case "aws:route53/getZone:getZone":
        return { id: MOCK_HOSTED_ZONE_ID, zoneId: MOCK_HOSTED_ZONE_ID, name: args.inputs.name };
      default:
        throw new Error(`no mock for provider call ${args.token}`);
    }
  }
}

/** The result of one offline run of the program. */
export interface ProgramRun {
  resources: RecordedResource[];
  calls: pulumi.runtime.MockCallArgs[];
  /** Stack outputs, resolved. */
  outputs: Record<string, unknown>;
  /** Names of the stack outputs that are secret. */
  secretOutputs: string[];
  /** What the program threw while it was loaded (e.g. a ConfigError); no outputs then. */
  error?: unknown;
  /** What the program logged with pulumi.log.warn (the engine shows these at the end of `pulumi up`). */
  warnings: string[];
}

export interface RunOptions {
  /** Stack name the program sees. Defaults to "test". */
  stack?: string;
  /** Secret config (`django-ha:<key>` without the prefix), e.g. { dnsTsigSecret: "…" }. */
  secrets?: Record<string, string>;
  /**
   * Keep JavaScript stack traces while the program runs. Defaults to true. Pulumi records one per
   * internal promise, which dominates large runs: the offline plan turns them off unless --debug.
   */
  stackTraces?: boolean;
}

/** The Pulumi program the engine runs: the repository's index.ts (what `pulumi up` runs). */
const PROGRAM = path.resolve(__dirname, "..", "..", "index.ts");

function resolveOutput(output: pulumi.Output<unknown>): Promise<unknown> {
  return new Promise((resolve) =>
    output.apply((v) => {
      resolve(v);
      return v;
    }),
  );
}

interface Registration {
  urn: string;
  parentUrn: string;
  dependencies: string[];
  protect: boolean;
  aliases: string[];
}

/** An alias as the request carries it (pulumirpc.Alias): a URN, or a spec with a name. */
type AliasMessage = { getUrn(): string; getSpec(): { getName(): string } | undefined };

const nameOfUrn = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/**
 * Watch the mock monitor's registrations: the mocks' newResource is not told a resource's parent or
 * dependencies, the monitor's request carries both.
 */
function watchRegistrations(): Map<string, Registration> {
  const seen = new Map<string, Registration>();
  type Request = {
    getType(): string;
    getName(): string;
    getParent(): string;
    getDependenciesList(): string[];
    getProtect(): boolean;
    getAliasesList(): AliasMessage[];
  };
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: Request, cb: (err: unknown, res?: { getUrn(): string }) => void): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) =>
    register(req, (err, res) => {
      if (res) {
        const aliases = req.getAliasesList().map((a) => a.getUrn() || a.getSpec()?.getName() || "");
        seen.set(`${req.getType()}::${req.getName()}`, {
          urn: res.getUrn(),
          parentUrn: req.getParent(),
          dependencies: req.getDependenciesList(),
          protect: req.getProtect(),
          aliases,
        });
      }
      cb(err, res);
    });
  return seen;
}

function link(resources: RecordedResource[], seen: Map<string, Registration>): void {
  for (const r of resources) {
    const reg = seen.get(`${r.type}::${r.name}`);
    if (!reg) continue;
    r.urn = reg.urn;
    r.parent = reg.parentUrn ? nameOfUrn(reg.parentUrn) : undefined;
    r.dependsOn = reg.dependencies.map(nameOfUrn);
    r.protect = reg.protect;
    r.aliases = reg.aliases;
  }
}

/**
 * Run index.ts with `config` (keys without the `django-ha:` prefix; non-strings are JSON-encoded, as the
 * Pulumi CLI hands them over). The program is loaded afresh each time, only after setMocks.
 */
export async function runProgram(config: Record<string, unknown>, options: RunOptions = {}): Promise<ProgramRun> {
  const mocks = new RecordingMocks();
  await pulumi.runtime.setMocks(mocks, PROJECT, options.stack ?? "test", false);
  const seen = watchRegistrations();
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) all[`${PROJECT}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  for (const [k, v] of Object.entries(options.secrets ?? {})) all[`${PROJECT}:${k}`] = v;
  pulumi.runtime.setAllConfig(
    all,
    Object.keys(options.secrets ?? {}).map((k) => `${PROJECT}:${k}`),
  );

  // Pulumi records a stack trace for every internal promise; with tsx's source maps each one costs
  // milliseconds (a 500-child plan took minutes). Plain stacks while the program runs; restored after.
  const sourceMaps = (process as unknown as { sourceMapsEnabled?: boolean }).sourceMapsEnabled ?? false;
  const stackTraceLimit = Error.stackTraceLimit;
  process.setSourceMapsEnabled(false);
  if (options.stackTraces === false) Error.stackTraceLimit = 0;
  try {
    const run = await loadAndResolve(mocks);
    link(run.resources, seen);
    return run;
  } finally {
    process.setSourceMapsEnabled(sourceMaps);
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** Without an engine (as under mocks) pulumi.log.warn prints this prefix to console.warn. */
const RUNTIME_WARNING = "warning: [runtime] ";

async function loadAndResolve(mocks: RecordingMocks): Promise<ProgramRun> {
  delete require.cache[PROGRAM];
  let program: Record<string, unknown> | undefined;
  let error: unknown;
  // Record the program's warnings as the engine would, instead of printing them.
  const warnings: string[] = [];
  const consoleWarn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = args.map(String).join(" ");
    if (text.startsWith(RUNTIME_WARNING)) warnings.push(text.slice(RUNTIME_WARNING.length));
    else consoleWarn(...args);
  };
  try {
    program = require(PROGRAM) as Record<string, unknown>;
  } catch (e) {
    error = e;
  } finally {
    console.warn = consoleWarn;
  }
  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  for (const [key, value] of Object.entries(program ?? {})) {
    if (pulumi.Output.isInstance(value)) {
      outputs[key] = await resolveOutput(value);
      if (await pulumi.isSecret(value)) secretOutputs.push(key);
    } else if (value !== undefined) {
      outputs[key] = value;
    }
  }
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  return { resources: mocks.resources, calls: mocks.calls, outputs, secretOutputs, error, warnings };
}
