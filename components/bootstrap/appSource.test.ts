/**
 * `pulumi up` with django-ha:sshPrivateKey builds the first release from django-ha:app's source, as `npm run
 * bootstrap` does: a directory as it is, a git source's ref exported (the release packer's git archive) into
 * .django-ha/<stack>/source, which the worker's plan uploads.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { digitaloceanConfig, TEST_SECRETS } from "../../test/configs";
import { runProgram } from "../plan/offlineEngine";
import type { NodePlan } from "../../roles/types";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest-only\n-----END OPENSSH PRIVATE KEY-----\n";
const RUN = "pulumi-nodejs:dynamic/bootstrap:Run";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-app-source-"));
const stateDir = path.join(tmp, "state");
const repo = path.join(tmp, "shop");
const savedStateDir = process.env.DJANGO_HA_STATE_DIR;

function git(...args: string[]): void {
  execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { stdio: "ignore" });
}

before(() => {
  process.env.DJANGO_HA_STATE_DIR = stateDir;
  fs.mkdirSync(path.join(repo, "shop"), { recursive: true });
  fs.writeFileSync(path.join(repo, "manage.py"), "# manage.py\n");
  fs.writeFileSync(path.join(repo, "shop", "version.py"), 'VERSION = "v1"\n');
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "-m", "v1");
  git("tag", "v1");
  fs.writeFileSync(path.join(repo, "shop", "version.py"), 'VERSION = "v2"\n');
  git("commit", "-q", "-am", "v2");
  // Not committed: a dirty work tree never ships.
  fs.writeFileSync(path.join(repo, "shop", "version.py"), 'VERSION = "dirty"\n');
});

after(() => {
  if (savedStateDir === undefined) delete process.env.DJANGO_HA_STATE_DIR;
  else process.env.DJANGO_HA_STATE_DIR = savedStateDir;
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The worker's upload of the project (the first release's source) and the Run's plans hash, for a django-ha:app. */
async function workerUpload(app: Record<string, unknown>): Promise<{ localDir: string; plansHash: string }> {
  const r = await runProgram(digitaloceanConfig(2, { app }), { stack: "shop", secrets: { ...TEST_SECRETS, sshPrivateKey: KEY } });
  assert.equal(r.error, undefined, String(r.error));
  const run = r.resources.find((x) => x.type === RUN)!;
  const plans = (run.inputs.plans as unknown as { value: NodePlan[] }).value;
  const worker = plans.find((p) => p.role === "worker")!;
  const upload = worker.actions.find((a) => a.kind === "upload" && a.name === "app-source");
  assert.ok(upload && upload.kind === "upload", "the worker's plan uploads the project");
  return { localDir: upload.localDir, plansHash: String(run.inputs.plansHash) };
}

const own = { wsgiModule: "shop.wsgi:application", settingsModule: "shop.settings" };

describe("program: the first release's source on the Pulumi path", () => {
  it("a git source: the ref's committed tree, exported into the stack's state directory", async () => {
    const v1 = await workerUpload({ ...own, git: `file://${repo}`, ref: "v1" });
    assert.equal(v1.localDir, path.join(stateDir, "shop", "source"));
    assert.equal(fs.readFileSync(path.join(v1.localDir, "shop", "version.py"), "utf8"), 'VERSION = "v1"\n');
    assert.ok(!fs.existsSync(path.join(v1.localDir, ".git")), "a tree, not a clone");

    const main = await workerUpload({ ...own, git: `file://${repo}`, ref: "main" });
    assert.equal(
      fs.readFileSync(path.join(main.localDir, "shop", "version.py"), "utf8"),
      'VERSION = "v2"\n',
      "the ref's commit, not the work tree",
    );
    assert.notEqual(main.plansHash, v1.plansHash, "another ref is another upload: the plans' hash says so");
  });

  it("a directory source: the directory itself; no source: the sample app", async () => {
    const dir = await workerUpload({ ...own, path: repo });
    assert.equal(dir.localDir, repo);
    const sample = await workerUpload({});
    assert.equal(sample.localDir, path.resolve(__dirname, "..", "..", "app"));
  });

  it("a ref the repository does not have fails the program, naming the key and the refs it has", async () => {
    const r = await runProgram(digitaloceanConfig(2, { app: { ...own, git: `file://${repo}`, ref: "v9" } }), {
      stack: "shop",
      secrets: { ...TEST_SECRETS, sshPrivateKey: KEY },
    });
    assert.match(String(r.error), /django-ha:app\.ref = "v9" is not a commit, branch or tag of file:\/\/.*Known: main, v1/);
  });
});
