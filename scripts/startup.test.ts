/**
 * `--help` of every operator verb loads commander and the verb's CLI module only: the program, the Pulumi and AWS
 * SDKs, node-ssh, acme-client, zod, yaml and the ops/lab/components code are imported after the arguments are
 * parsed, when there is work to do. Checked by the modules a run loaded (test/record-loads.ts), never by a clock:
 * the time it buys is measured by bench/startup.bench.ts (docs/benchmarks.md).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";

const root = path.resolve(__dirname, "..");
const recorder = path.join(root, "test/record-loads.ts");

/** The operator verbs: every package.json script that runs a scripts/*.ts file with tsx. */
function verbs(): { verb: string; file: string }[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
  return Object.entries(pkg.scripts).flatMap(([verb, command]) => {
    const m = /^tsx (scripts\/[\w-]+\.ts)$/.exec(command);
    return m ? [{ verb, file: m[1] }] : [];
  });
}

/** Run a script with the recorder; what it printed and every module it loaded (paths relative to the checkout). */
function loadsOf(args: string[]): { status: number | null; stdout: string; stderr: string; loaded: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-loads-"));
  const out = path.join(dir, "loaded.txt");
  try {
    const r = spawnSync(process.execPath, ["--import", "tsx", "--import", recorder, ...args], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, DJANGO_HA_RECORD_LOADS: out },
    });
    const loaded = fs.existsSync(out) ? fs.readFileSync(out, "utf8").split("\n").filter(Boolean) : [];
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, loaded: loaded.map((f) => path.relative(root, f)) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The npm packages among loaded modules (the innermost node_modules/<name> of each path). */
function packagesOf(loaded: string[]): Set<string> {
  const names = loaded.flatMap((f) => {
    const m = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f);
    return m ? [m[1]] : [];
  });
  return new Set(names);
}

/**
 * Project modules a verb's help may load besides scripts/: the error types the CLIs share and the lab's constants
 * (its help shows the default certificate lifetime). Nothing here imports a package.
 */
const LIGHT_PROJECT_MODULES = new Set([
  "model/errors.ts",
  "lab/config.ts",
  "model/debian.ts",
  "model/catalog.json",
  "test/record-loads.ts",
]);

describe("operator verbs start without loading what --help does not need", () => {
  const baseline = packagesOf(loadsOf(["-e", ""]).loaded); // tsx itself (and the esbuild it drives)

  it("the verbs are the ones the README lists", () => {
    const names = verbs().map((v) => v.verb);
    for (const v of ["plan", "lab", "bootstrap", "failover", "status", "deploy", "rollback", "maintenance"])
      assert.ok(names.includes(v), v);
  });

  const cases = [
    ...verbs().map((v) => ({ name: v.verb, args: [v.file, "--help"] })),
    { name: "failover rejoin", args: ["scripts/failover.ts", "rejoin", "--help"] },
  ];
  for (const c of cases) {
    it(`${c.name} --help loads commander and its CLI module only`, () => {
      const r = loadsOf(c.args);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Usage: /m);
      const extra = [...packagesOf(r.loaded)].filter((p) => !baseline.has(p));
      assert.deepEqual(extra, ["commander"], `packages loaded for --help: ${extra.join(", ")}`);
      const project = r.loaded.filter((f) => !f.startsWith("..") && !f.includes("node_modules/"));
      const heavy = project.filter((f) => !f.startsWith("scripts/") && !LIGHT_PROJECT_MODULES.has(f));
      assert.deepEqual(heavy, [], `project modules loaded for --help: ${heavy.join(", ")}`);
      assert.ok(project.includes(c.args[0]), `the recorder saw ${c.args[0]} itself`);
    });
  }
});

describe("the offline plan loads only its stack's own provider SDK", () => {
  const PROVIDER_SDKS = ["@pulumi/aws", "@pulumi/digitalocean"];
  for (const [stack, own] of [
    ["hosts-example", undefined],
    ["digitalocean-example", "@pulumi/digitalocean"],
    ["aws-example", "@pulumi/aws"],
  ] as const) {
    it(`${stack}: ${own ?? "no provider SDK"}`, () => {
      const r = loadsOf(["scripts/plan-cli.ts", "--stack", stack, "--summary"]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /planned offline/);
      const sdks = PROVIDER_SDKS.filter((p) => packagesOf(r.loaded).has(p));
      assert.deepEqual(sdks, own ? [own] : []);
    });
  }
});
