/**
 * The GitHub Actions workflows: valid against GitHub's schema (action-validator, the same check as its CLI)
 * and true to our policy — previews on pull requests with a PR comment, `pulumi up` only from main behind an
 * approval environment with no overlap, tests before any Pulumi command, least-privilege permissions,
 * actions pinned, and secrets handed only to the Pulumi step, never to a shell.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { validateWorkflow } from "@action-validator/core";
import YAML from "yaml";

const ROOT = path.resolve(__dirname, "..");
const DIR = path.join(ROOT, ".github", "workflows");
const read = (name: string) => fs.readFileSync(path.join(DIR, name), "utf8");

/** The cloud credentials the Pulumi step needs; README's `ci` section names exactly these. */
const CLOUD_SECRETS = ["PULUMI_ACCESS_TOKEN", "DIGITALOCEAN_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, unknown>; name?: string };
type Job = {
  "runs-on"?: string;
  container?: string | { image?: string; options?: string };
  strategy?: { matrix?: { stack?: string[] | string } };
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  permissions?: string | Record<string, string>;
  steps?: Step[];
  env?: Record<string, unknown>;
};
type Workflow = {
  on?: Record<string, unknown> | string | string[];
  permissions?: string | Record<string, string>;
  concurrency?: { group?: string; "cancel-in-progress"?: boolean } | string;
  env?: Record<string, unknown>;
  jobs: Record<string, Job>;
};

/** Schema errors as readable lines (empty when valid). */
function schemaErrors(src: string): string[] {
  return validateWorkflow(src).errors.map(
    (e) => `${"path" in e && e.path ? e.path : "(file)"}: ${e.title}${e.detail ? ` — ${e.detail}` : ""}`,
  );
}

const PINNED = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/;
const isPulumi = (s: Step) => (s.uses ?? "").startsWith("pulumi/actions@");
const needsOf = (j: Job) => (j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs]);
const envName = (j: Job) => (typeof j.environment === "string" ? j.environment : j.environment?.name);
const events = (w: Workflow) => (typeof w.on === "string" ? [w.on] : Array.isArray(w.on) ? w.on : Object.keys(w.on ?? {}));

/** Problems common to both workflows; `mayWritePullRequests` names the one job allowed to comment. */
function commonProblems(w: Workflow, mayWritePullRequests: string | undefined): string[] {
  const problems: string[] = [];
  const readOnly = (where: string, p: Job["permissions"], allowPr: boolean) => {
    if (p === undefined) return problems.push(`${where}: no permissions block (defaults may grant write)`);
    if (typeof p === "string") return p === "read-all" || p === "{}" ? 0 : problems.push(`${where}: permissions "${p}" is too broad`);
    for (const [scope, level] of Object.entries(p)) {
      if (level === "write" && !(allowPr && scope === "pull-requests")) problems.push(`${where}: ${scope}: write is not needed`);
    }
    return 0;
  };
  readOnly("workflow", w.permissions, false);
  if (w.env && JSON.stringify(w.env).includes("secrets.")) problems.push("workflow env: secrets must not be given to every job");
  for (const [id, job] of Object.entries(w.jobs)) {
    if (job.permissions !== undefined) readOnly(`job ${id}`, job.permissions, id === mayWritePullRequests);
    if (job.env && JSON.stringify(job.env).includes("secrets.")) problems.push(`job ${id} env: secrets must go to the Pulumi step only`);
    for (const [i, step] of (job.steps ?? []).entries()) {
      const where = `job ${id} step ${i + 1}`;
      if (step.uses !== undefined && !PINNED.test(step.uses))
        problems.push(`${where}: ${step.uses} is not pinned to a major version tag or a commit`);
      if (step.run !== undefined) {
        if (step.run.includes("secrets.")) problems.push(`${where}: a shell step references secrets`);
        for (const name of CLOUD_SECRETS)
          if (new RegExp(`\\$\\{?${name}\\b`).test(step.run)) problems.push(`${where}: a shell step reads ${name}`);
      }
      const handed = JSON.stringify({ with: step.with ?? {}, env: step.env ?? {} });
      const secretRefs = [...handed.matchAll(/secrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
      if (!isPulumi(step) && secretRefs.length > 0)
        problems.push(`${where}: secrets ${secretRefs.join(", ")} given to a step that is not pulumi/actions`);
    }
    for (const [i, step] of (job.steps ?? []).entries()) {
      if (step.uses?.startsWith("actions/setup-node@") && step.with?.["node-version-file"] !== ".node-version") {
        problems.push(`job ${id} step ${i + 1}: setup-node must read .node-version (the one Node.js version CI runs on)`);
      }
    }
    if ((job.steps ?? []).some(isPulumi)) problems.push(...stackProblems(id, job));
    if ((job.steps ?? []).some(isPulumi)) {
      const tests = needsOf(job).map((n) => w.jobs[n]);
      const tested = tests.some((t) => (t?.steps ?? []).some((s) => /\.ci\/run|npm (run )?test\b/.test(s.run ?? "")));
      if (!tested) problems.push(`job ${id}: runs Pulumi without needing a job that runs the tests (.ci/run)`);
      for (const name of CLOUD_SECRETS) {
        const step = (job.steps ?? []).find(isPulumi)!;
        if (step.env?.[name] !== `\${{ secrets.${name} }}`) problems.push(`job ${id}: the Pulumi step does not get ${name} from secrets`);
      }
    }
  }
  return problems;
}

const GUARD = "scripts/deployable-stack.sh";

/** Run the stack guard for real: exit 0 = the workflow may preview/deploy that stack. */
function guardAllows(stack: string, stacksDir = path.join(ROOT, "stacks")): boolean {
  return (
    spawnSync("bash", [path.join(ROOT, GUARD), stack], { env: { ...process.env, DJANGO_HA_STACKS_DIR: stacksDir }, encoding: "utf8" })
      .status === 0
  );
}

/**
 * A Pulumi job touches only the operator's stacks: the matrix comes from the PULUMI_STACKS variable (or a
 * literal list the guard accepts), and the guard step runs on the matrix stack before the Pulumi step.
 */
function stackProblems(id: string, job: Job): string[] {
  const problems: string[] = [];
  const stacks = job.strategy?.matrix?.stack;
  if (Array.isArray(stacks)) {
    for (const s of stacks)
      if (!guardAllows(s))
        problems.push(`job ${id}: matrix stack ${s} is an example/lab stack or has no stack file: it must never be deployed`);
  } else if (stacks !== "${{ fromJSON(vars.PULUMI_STACKS) }}") {
    problems.push(`job ${id}: matrix.stack must be \${{ fromJSON(vars.PULUMI_STACKS) }} (the operator's stacks)`);
  }
  const steps = job.steps ?? [];
  const guard = steps.findIndex((s) => (s.run ?? "").includes(`bash ${GUARD} "$STACK"`) && s.env?.STACK === "${{ matrix.stack }}");
  if (guard < 0 || guard > steps.findIndex(isPulumi))
    problems.push(`job ${id}: no ${GUARD} step on the matrix stack before the Pulumi step`);
  return problems;
}

/** Why a preview workflow breaks our policy (empty when it complies). */
function previewProblems(w: Workflow): string[] {
  const problems: string[] = [];
  const on = events(w);
  if (!on.includes("pull_request")) problems.push("preview must run on pull_request");
  if (on.includes("pull_request_target")) problems.push("pull_request_target runs untrusted PR code with secrets: use pull_request");
  const jobs = Object.entries(w.jobs).filter(([, j]) => (j.steps ?? []).some(isPulumi));
  if (jobs.length === 0) problems.push("no pulumi/actions step");
  for (const [id, job] of jobs) {
    const step = job.steps!.find(isPulumi)!;
    if (step.with?.command !== "preview")
      problems.push(`job ${id}: pulumi/actions command is ${JSON.stringify(step.with?.command)}, not preview`);
    if (step.with?.["comment-on-pr"] !== true) problems.push(`job ${id}: comment-on-pr must be true`);
    if (!step.with?.["stack-name"]) problems.push(`job ${id}: no stack-name`);
    if (step.with?.["work-dir"] !== ".") problems.push(`job ${id}: work-dir must be "."`);
    const perms = job.permissions;
    if (typeof perms !== "object" || perms["pull-requests"] !== "write") problems.push(`job ${id}: needs pull-requests: write to comment`);
  }
  return [...problems, ...commonProblems(w, jobs[0]?.[0])];
}

/** Why an up workflow breaks our policy (empty when it complies). */
function upProblems(w: Workflow): string[] {
  const problems: string[] = [];
  const on = events(w);
  const push = typeof w.on === "object" && !Array.isArray(w.on) ? (w.on.push as { branches?: string[] } | null | undefined) : undefined;
  if (on.length !== 1 || on[0] !== "push" || JSON.stringify(push?.branches) !== JSON.stringify(["main"]))
    problems.push("up must run only on push to main");
  const concurrency = w.concurrency;
  if (typeof concurrency !== "object" || !concurrency.group || concurrency["cancel-in-progress"] !== false) {
    problems.push("up needs a workflow concurrency group with cancel-in-progress: false, so two ups never overlap nor get cut off");
  }
  const jobs = Object.entries(w.jobs).filter(([, j]) => (j.steps ?? []).some(isPulumi));
  if (jobs.length === 0) problems.push("no pulumi/actions step");
  for (const [id, job] of jobs) {
    const step = job.steps!.find(isPulumi)!;
    if (step.with?.command !== "up") problems.push(`job ${id}: pulumi/actions command is ${JSON.stringify(step.with?.command)}, not up`);
    if (!step.with?.["stack-name"]) problems.push(`job ${id}: no stack-name`);
    if (envName(job) !== "production") problems.push(`job ${id}: must run in the production environment (the approval gate)`);
    if (!(job.if === "github.ref == 'refs/heads/main'" || job.if?.startsWith("github.ref == 'refs/heads/main' && ")))
      problems.push(`job ${id}: must be guarded by if: github.ref == 'refs/heads/main'`);
  }
  return [...problems, ...commonProblems(w, undefined)];
}

const parse = (src: string) => YAML.parse(src) as Workflow;
/** A deep copy to break on purpose. */
const copy = (src: string) => parse(src);

describe("GitHub Actions workflows", () => {
  for (const name of ["preview.yml", "up.yml"]) {
    it(`${name} is valid against the workflow schema (action-validator)`, () => {
      assert.deepEqual(schemaErrors(read(name)), []);
    });
  }

  it("preview.yml previews every stack on pull requests, comments on the PR, after the tests", () => {
    assert.deepEqual(previewProblems(parse(read("preview.yml"))), []);
  });

  it("up.yml runs pulumi up only from main, behind the production environment, one at a time, after the tests", () => {
    assert.deepEqual(upProblems(parse(read("up.yml"))), []);
  });

  it("both workflows preview/deploy the same stacks: the operator's, from PULUMI_STACKS", () => {
    const stacks = (src: string) =>
      Object.values(parse(src).jobs)
        .map((j) => j.strategy?.matrix?.stack)
        .find(Boolean);
    assert.equal(stacks(read("up.yml")), "${{ fromJSON(vars.PULUMI_STACKS) }}");
    assert.equal(stacks(read("preview.yml")), stacks(read("up.yml")));
  });

  it("the stack guard refuses every stack this repository ships (examples, lab) and a missing file; it accepts an operator's stack", () => {
    const shipped = fs
      .readdirSync(path.join(ROOT, "stacks"))
      .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
      .map((f) => f.slice(7, -5));
    assert.ok(shipped.includes("digitalocean-example") && shipped.includes("lab"));
    for (const stack of shipped) assert.equal(guardAllows(stack), false, `${stack} must be refused`);
    assert.equal(guardAllows("production"), false, "no stacks/Pulumi.production.yaml here");
    assert.equal(guardAllows("a;b"), false);
    const mine = fs.mkdtempSync(path.join(os.tmpdir(), "stacks-"));
    fs.copyFileSync(path.join(ROOT, "stacks", "Pulumi.digitalocean-example.yaml"), path.join(mine, "Pulumi.production.yaml"));
    assert.equal(guardAllows("production", mine), true);
    fs.rmSync(mine, { recursive: true, force: true });
  });

  it("every job runs the Node.js LTS of .node-version, the one .ci/run installs and package.json's engines allow", () => {
    const version = fs.readFileSync(path.join(ROOT, ".node-version"), "utf8").trim();
    const major = Number(version.split(".")[0]);
    assert.match(version, /^\d+\.\d+\.\d+$/);
    assert.ok(major >= 22 && major % 2 === 0, `${version}: CI must run an LTS line (even major, 22 or later: @pulumi/pulumi needs >= 22)`);
    const engines = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).engines.node as string;
    const floor = Number(/^>=\s*(\d+)$/.exec(engines)?.[1]);
    assert.ok(floor >= 22 && major >= floor, `engines.node ${engines} must be >= 22 and allow ${version}`);
    assert.match(fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8"), /\.node-version/);
  });

  it("the test job runs where the host package names are right: a Debian container of this machine's release, every name known to apt here", () => {
    const release = /^VERSION_ID="?(\d+)"?$/m.exec(fs.readFileSync("/etc/os-release", "utf8"))?.[1];
    const names = ["lab/host-packages.txt", "test/host-packages.txt"]
      .flatMap((f) => fs.readFileSync(path.join(ROOT, f), "utf8").split("\n"))
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    for (const name of ["preview.yml", "up.yml"]) {
      const job = parse(read(name)).jobs.test;
      const image = typeof job.container === "string" ? job.container : job.container?.image;
      assert.equal(
        image,
        `debian:${release}`,
        `${name}: the test job must run in debian:${release}, whose archive the host package names come from`,
      );
      assert.match(
        typeof job.container === "object" ? (job.container.options ?? "") : "",
        /--privileged/,
        `${name}: the lab needs a privileged container`,
      );
    }
    // apt-cache policy prints "name:" then "  Candidate: <version or (none)>" for every name asked.
    const policy = spawnSync("apt-cache", ["policy", ...new Set(names)], { encoding: "utf8" }).stdout;
    const candidates = new Map<string, string>();
    let current = "";
    for (const line of policy.split("\n")) {
      if (/^\S+:$/.test(line)) current = line.slice(0, -1);
      else if (line.trim().startsWith("Candidate:")) candidates.set(current, line.trim().slice("Candidate:".length).trim());
    }
    for (const n of new Set(names))
      assert.ok(candidates.has(n) && candidates.get(n) !== "(none)", `${n} has no candidate in this machine's Debian archive`);
  });
});

describe("the workflow checks fail on broken workflows", () => {
  it("the schema check rejects a job without runs-on, an unknown event, a bad permission level and broken YAML", () => {
    const noRunner = copy(read("preview.yml"));
    delete (noRunner.jobs.preview as Record<string, unknown>)["runs-on"];
    assert.ok(schemaErrors(YAML.stringify(noRunner)).some((e) => e.startsWith("/jobs/preview")));

    const badEvent = copy(read("up.yml"));
    badEvent.on = { pushh: { branches: ["main"] } };
    assert.ok(schemaErrors(YAML.stringify(badEvent)).some((e) => e.startsWith("/on")));

    const badPermission = copy(read("preview.yml"));
    badPermission.jobs.preview.permissions = { "pull-requests": "maybe" };
    assert.notDeepEqual(schemaErrors(YAML.stringify(badPermission)), []);

    assert.match(schemaErrors(read("up.yml").replace("jobs:", "jobs: [")).join("\n"), /Parse Error/);
  });

  it("the preview policy rejects pull_request_target, a missing PR comment, an unpinned action and an echoed secret", () => {
    const target = copy(read("preview.yml"));
    target.on = { pull_request_target: {} };
    assert.ok(previewProblems(target).some((p) => /pull_request_target/.test(p)));

    const noComment = copy(read("preview.yml"));
    noComment.jobs.preview.steps!.find(isPulumi)!.with!["comment-on-pr"] = false;
    assert.ok(previewProblems(noComment).some((p) => /comment-on-pr/.test(p)));

    const unpinned = copy(read("preview.yml"));
    unpinned.jobs.preview.steps![0].uses = "actions/checkout@main";
    assert.ok(previewProblems(unpinned).some((p) => /actions\/checkout@main is not pinned/.test(p)));

    const echoed = copy(read("preview.yml"));
    echoed.jobs.preview.steps!.push({ run: "echo $PULUMI_ACCESS_TOKEN" }, { run: "echo ${{ secrets.DIGITALOCEAN_TOKEN }}" });
    const problems = previewProblems(echoed);
    assert.ok(problems.some((p) => /reads PULUMI_ACCESS_TOKEN/.test(p)));
    assert.ok(problems.some((p) => /shell step references secrets/.test(p)));

    const leaked = copy(read("preview.yml"));
    leaked.jobs.test.env = { DIGITALOCEAN_TOKEN: "${{ secrets.DIGITALOCEAN_TOKEN }}" };
    assert.ok(previewProblems(leaked).some((p) => /job test env/.test(p)));
  });

  it("the up policy rejects a missing environment, other branches, no concurrency, write permissions and untested ups", () => {
    const noEnv = copy(read("up.yml"));
    delete noEnv.jobs.up.environment;
    assert.ok(upProblems(noEnv).some((p) => /production environment/.test(p)));

    const anyBranch = copy(read("up.yml"));
    anyBranch.on = { push: { branches: ["main", "dev"] }, pull_request: {} };
    assert.ok(upProblems(anyBranch).some((p) => /only on push to main/.test(p)));

    const overlapping = copy(read("up.yml"));
    delete overlapping.concurrency;
    assert.ok(upProblems(overlapping).some((p) => /concurrency/.test(p)));

    const writer = copy(read("up.yml"));
    writer.jobs.up.permissions = { contents: "write", "pull-requests": "write" };
    writer.permissions = "write-all";
    const problems = upProblems(writer);
    assert.ok(problems.some((p) => /contents: write is not needed/.test(p)));
    assert.ok(problems.some((p) => /pull-requests: write is not needed/.test(p)));
    assert.ok(problems.some((p) => /"write-all" is too broad/.test(p)));

    const example = copy(read("up.yml"));
    example.jobs.up.strategy!.matrix!.stack = ["digitalocean-example"];
    assert.ok(upProblems(example).some((p) => /digitalocean-example is an example/.test(p)));

    const unguarded = copy(read("preview.yml"));
    unguarded.jobs.preview.steps = unguarded.jobs.preview.steps!.filter((st) => !(st.run ?? "").includes(GUARD));
    assert.ok(previewProblems(unguarded).some((p) => /deployable-stack\.sh step/.test(p)));

    const oldNode = copy(read("up.yml"));
    oldNode.jobs.up.steps!.find((st) => st.uses?.startsWith("actions/setup-node@"))!.with = { "node-version": 20 };
    assert.ok(upProblems(oldNode).some((p) => /setup-node must read \.node-version/.test(p)));

    const untested = copy(read("up.yml"));
    delete untested.jobs.up.needs;
    assert.ok(upProblems(untested).some((p) => /without needing a job that runs the tests/.test(p)));
  });
});
