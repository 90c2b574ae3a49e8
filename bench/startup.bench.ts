#!/usr/bin/env tsx
/**
 * Start-up of the operator verbs, in fresh processes (docs/benchmarks.md "Start-up"):
 *   - `<verb> --help` for every verb package.json runs, started as `node --import tsx scripts/<verb>.ts` and as
 *     `npx tsx scripts/<verb>.ts` (npx and tsx's own CLI process on top);
 *   - the offline plan of a small stack (`plan --stack digitalocean-example --summary`), and where its fixed cost
 *     goes: cumulative steps, each timed in its own fresh process (Pulumi's SDK, then the providers, then the program);
 *     the whole plan without and with a warm compile cache, and through `npm run` as a user runs it.
 *   - the whole offline plan of each example stack (hosts, DigitalOcean, AWS), as shipped;
 *   npx tsx bench/startup.bench.ts [--runs 5] [--root <another checkout>] [--node <node binary>] [--only plan-stacks]
 * `--root` measures another checkout with this bench (e.g. main before a change); `--node` another Node.js (the
 * compile cache needs 22.1 or later). Prints markdown tables of medians. Timings are never asserted.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

export interface StartupOptions {
  root: string;
  node: string;
  runs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** One run's wall time and CPU time (user + system of the process and its children, from bash's `times`), in ms. */
interface Timing {
  wallMs: number;
  cpuMs: number;
}

/**
 * Time one fresh process; throws with its output when it fails. CPU time is reported beside wall time because the
 * machine the figures come from is shared: wall time grows with everyone else's load, CPU time much less.
 */
function timeRun(o: StartupOptions, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Timing {
  const out = path.join(os.tmpdir(), `django-ha-startup-bench-${process.pid}.out`);
  const script = `"$@" >${out} 2>&1; s=$?; times; exit $s`;
  const started = performance.now();
  const r = spawnSync("bash", ["-c", script, "bash", command, ...args], { cwd: o.root, encoding: "utf8", env: { ...process.env, ...env } });
  const wallMs = performance.now() - started;
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${r.status}:\n${fs.readFileSync(out, "utf8")}`);
  // `times` prints the shell's own user/system time, then its children's on the last line: "0m0.260s 0m0.020s".
  const children = r.stdout.trim().split("\n").at(-1) ?? "";
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return { wallMs, cpuMs: seconds.reduce((a, b) => a + b, 0) * 1000 };
}

function medianOf(o: StartupOptions, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Timing {
  timeRun(o, command, args, env); // warm the file cache, tsx's transform cache and a compile cache, outside the timings
  const runs = Array.from({ length: o.runs }, () => timeRun(o, command, args, env));
  return { wallMs: median(runs.map((r) => r.wallMs)), cpuMs: median(runs.map((r) => r.cpuMs)) };
}

/** "1.23 s / 0.45 s": median wall time / median CPU time. */
function cell(t: Timing): string {
  return `${(t.wallMs / 1000).toFixed(2)} s / ${(t.cpuMs / 1000).toFixed(2)} s`;
}

/** The verbs of a checkout: package.json scripts that run a scripts/*.ts file with tsx. */
export function verbsOf(root: string): { verb: string; file: string }[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
  return Object.entries(pkg.scripts).flatMap(([verb, command]) => {
    const m = /(?:^|\s)(scripts\/[\w-]+\.ts)$/.exec(command);
    return m ? [{ verb, file: m[1] }] : [];
  });
}

export function benchHelp(o: StartupOptions): string[] {
  const npx = path.join(path.dirname(o.node), "npx");
  const rows = verbsOf(o.root).map(({ verb, file }) => {
    const direct = medianOf(o, o.node, ["--import", "tsx", file, "--help"]);
    const viaNpx = medianOf(o, fs.existsSync(npx) ? npx : "npx", ["tsx", file, "--help"]);
    process.stderr.write(`  ${verb} --help: ${cell(direct)}, npx tsx ${cell(viaNpx)}\n`);
    return `| ${verb} | ${cell(direct)} | ${cell(viaNpx)} |`;
  });
  return ["| verb `--help` (median wall / CPU) | `node --import tsx` | `npx tsx` |", "|---|---:|---:|", ...rows];
}

/** Cumulative steps of the offline plan's start-up, each run to its end in a fresh process. */
const PLAN_STEPS: { step: string; code: string }[] = [
  { step: "node + tsx, nothing loaded", code: "" },
  { step: "+ @pulumi/pulumi", code: 'require("@pulumi/pulumi");' },
  {
    step: "+ @pulumi/random, @pulumi/digitalocean",
    code: 'require("@pulumi/pulumi"); require("@pulumi/random"); require("@pulumi/digitalocean");',
  },
  {
    step: "+ @pulumi/aws",
    code: 'require("@pulumi/pulumi"); require("@pulumi/random"); require("@pulumi/digitalocean"); require("@pulumi/aws");',
  },
  { step: "+ the program, the model and the mock engine (scripts/plan.ts and below)", code: 'require("./scripts/plan");' },
];

export function benchPlanStartup(o: StartupOptions): string[] {
  const cli = verbsOf(o.root).find((v) => v.verb === "plan")!.file;
  const whole = ["--import", "tsx", cli, "--stack", "digitalocean-example", "--summary"];
  const off = { NODE_DISABLE_COMPILE_CACHE: "1" };
  const rows: string[] = [];
  for (const s of PLAN_STEPS) {
    const t = medianOf(o, o.node, ["--import", "tsx", "-e", s.code], off);
    process.stderr.write(`  ${s.step}: ${cell(t)}\n`);
    rows.push(`| ${s.step} | ${cell(t)} |`);
  }
  const plain = medianOf(o, o.node, whole, off);
  const shipped = medianOf(o, o.node, whole);
  const npmRun = medianOf(o, "npm", ["run", "-s", "plan", "--", "--stack", "digitalocean-example", "--summary"]);
  process.stderr.write(`  whole plan: cache off ${cell(plain)}, as shipped ${cell(shipped)}, npm run ${cell(npmRun)}\n`);
  rows.push(
    `| = the whole \`plan --stack digitalocean-example --summary\` (\`node --import tsx\`), compile cache off | ${cell(plain)} |`,
    `| the same as shipped (the checkout's own compile-cache setting, cache warm) | ${cell(shipped)} |`,
    `| \`npm run plan -- --stack digitalocean-example --summary\`, as a user runs it | ${cell(npmRun)} |`,
  );
  return ["| offline plan start-up, cumulative, a fresh process each | median wall / CPU |", "|---|---:|", ...rows];
}

/** The whole plan of each example stack, as shipped: what loading only the stack's own provider SDK changes. */
export function benchPlanPerStack(o: StartupOptions): string[] {
  const cli = verbsOf(o.root).find((v) => v.verb === "plan")?.file ?? "scripts/plan.ts";
  const rows = ["hosts-example", "digitalocean-example", "aws-example"].map((stack) => {
    const t = medianOf(o, o.node, ["--import", "tsx", cli, "--stack", stack, "--summary"]);
    process.stderr.write(`  plan ${stack}: ${cell(t)}\n`);
    return `| ${stack} | ${cell(t)} |`;
  });
  return ["| whole `plan --stack <stack> --summary`, as shipped | median wall / CPU |", "|---|---:|", ...rows];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

if (require.main === module) {
  const o: StartupOptions = {
    root: path.resolve(arg("--root") ?? path.join(__dirname, "..")),
    node: arg("--node") ?? process.execPath,
    runs: Number(arg("--runs") ?? 5),
  };
  const started = performance.now();
  const version = spawnSync(o.node, ["--version"], { encoding: "utf8" }).stdout.trim();
  process.env.PATH = `${path.dirname(o.node)}:${process.env.PATH}`; // npm and npx run on the same Node.js
  const load = os.loadavg()[0].toFixed(1);
  const only = arg("--only");
  const sections = only === "plan-stacks" ? [benchPlanPerStack(o)] : [benchHelp(o), benchPlanStartup(o), benchPlanPerStack(o)];
  console.log(sections.map((rows) => rows.join("\n")).join("\n\n"));
  console.log(
    `\n${o.runs} runs each after one warm-up, median shown; ${o.root}; node ${version}; load average ${load} at the start; total ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
}
