/**
 * Releases end to end in the lab (issue 12), one lab boot: the bootstrap builds the first release on the worker
 * and every child starts on it; then, while a client writes and reads through the round-robin name at a steady
 * rate from outside, a deploy from a git ref, a rollback, and a release that fails its health check on one child
 * (rolled back automatically on the child that had switched) — the client must see zero failed requests.
 * Then maintenance and read-only mode as a visitor sees them, and the operator's CLI.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { isClean, labDown, labRemoveVolumes, labUp } from "../lab";
import { labBootstrapHook } from "../ops/bootstrap";
import {
  deploy,
  parseReleaseStatus,
  releaseStatus,
  releaseTarget,
  rollback,
  SAMPLE_APP,
  setMaintenance,
  type ReleaseApp,
  type ReleaseTarget,
} from "../ops/release";
import { RELEASE_HEADER, RELEASE_PATHS } from "../roles/release";
import type { Inventory } from "../model";
import { operator, startLoad, web, type LoadRun, type Sample } from "./drill";
import { labSsh } from "../lab";

const quiet = () => undefined;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-release-lab-"));
let inventory: Inventory;
let fqdn: string;
let children: { name: string; publicAddress: string }[];
let repo: string;
/** Release ids by what they hold: the bootstrap's first one, v2 from git, the one broken on lab-child-2. */
const ids: Record<string, string> = {};
let load: LoadRun | undefined;
const timeline: Sample[] = [];

/** The release a child's health path names (through the round-robin name, pinned to that child). */
async function servedRelease(address: string): Promise<string> {
  const r = await web(fqdn, address, "/health/", ["-i"]);
  assert.equal(r.status, 200, r.body);
  return new RegExp(`^${RELEASE_HEADER}: (\\S+)`, "im").exec(r.body)?.[1] ?? "(none)";
}

async function everyChildServes(id: string): Promise<void> {
  for (const c of children) assert.equal(await servedRelease(c.publicAddress), id, `${c.name} serves ${id}`);
}

/** A test clip (a few seconds of ffmpeg work on the worker), made once. */
function testClip(): string {
  const clip = path.join(tmp, "clip.avi");
  if (!fs.existsSync(clip))
    execFileSync("ffmpeg", ["-loglevel", "error", "-f", "lavfi", "-i", "testsrc=duration=8:size=640x480:rate=25", "-y", clip]);
  return clip;
}

/** Upload `n` video jobs through the children in turn; their ids. */
async function queueVideoJobs(n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await web(fqdn, children[i % children.length].publicAddress, "/videos/", ["-F", `file=@${testClip()}`]);
    assert.equal(r.status, 202, r.body);
    ids.push((JSON.parse(r.body) as { id: number }).id);
  }
  return ids;
}

/** Every job reaches "done" (the worker's warm restart finished the running one; the queued ones ran after). */
async function jobsDone(jobIds: number[]): Promise<void> {
  for (const id of jobIds) {
    let job: { status: string } = { status: "queued" };
    for (let i = 0; i < 180 && !["done", "failed"].includes(job.status); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      job = JSON.parse((await web(fqdn, children[0].publicAddress, `/videos/${id}/`)).body) as { status: string };
    }
    assert.equal(job.status, "done", `video job ${id} across the deploy: ${JSON.stringify(job)}`);
  }
}

/** A git repository holding the sample app at three commits: v2, and v3 whose health fails on lab-child-2 only. */
function makeRepo(): string {
  const dir = path.join(tmp, "repo");
  fs.cpSync(path.join(__dirname, "..", "app"), dir, { recursive: true, filter: (s) => path.basename(s) !== "__pycache__" });
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", dir, "-c", "user.name=lab", "-c", "user.email=lab@example.org", ...args], { encoding: "utf8" });
  git("init", "-q", "-b", "main");
  fs.writeFileSync(path.join(dir, "RELEASE_NOTE"), "v2\n");
  git("add", "-A");
  git("commit", "-q", "-m", "v2");
  git("tag", "v2");
  const views = path.join(dir, "notes", "views.py");
  const text = fs.readFileSync(views, "utf8");
  const broken = text.replace(
    "def health(request):\n",
    'def health(request):\n    if settings.NODE_NAME == "lab-child-2":\n        return JsonResponse({"status": "fail", "why": "broken on purpose"}, status=503)\n',
  );
  assert.notEqual(broken, text, "the health view was found");
  fs.writeFileSync(views, broken);
  git("commit", "-q", "-am", "v3: health fails on lab-child-2");
  git("tag", "broken-on-child-2");
  return dir;
}

function target(app: ReleaseApp): ReleaseTarget {
  const t = releaseTarget({ stack: "lab", app });
  return { ...t, base: { ...t.base, log: quiet } };
}

const gitApp = (): ReleaseApp => ({ ...SAMPLE_APP, source: { kind: "git", url: repo, ref: "main" } });
const yes = async () => true;

before(async () => {
  await labDown({ log: quiet });
  await labRemoveVolumes({ log: quiet });
  inventory = (await labUp({ log: quiet, afterBoot: [labBootstrapHook()] })).inventory;
  fqdn = inventory.recordFqdn;
  children = inventory.nodes.filter((n) => n.role === "child");
  repo = makeRepo();
});

after(async () => {
  if (load) await load.stop();
  const left = await labDown({ log: quiet });
  fs.rmSync(tmp, { recursive: true, force: true });
  assert.ok(isClean(left), `lab down left something behind: ${JSON.stringify(left)}`);
});

describe("releases in the lab", () => {
  it("the bootstrap built the first release on the worker; every child serves it", async () => {
    const worker = inventory.nodes.find((n) => n.role === "worker")!;
    const r = await labSsh(worker.name, [
      ...releaseStatus({
        releases: RELEASE_PATHS.releases,
        nodeCurrent: RELEASE_PATHS.nodeCurrent,
        shareCurrent: RELEASE_PATHS.shareCurrent,
        maintenanceFlag: RELEASE_PATHS.maintenanceFlag,
        readOnlyFlag: RELEASE_PATHS.readOnlyFlag,
      }),
    ]);
    const s = parseReleaseStatus(r.stdout);
    assert.ok(s.shareCurrent, r.stdout);
    assert.equal(s.nodeCurrent, s.shareCurrent);
    ids.first = s.shareCurrent!;
    await everyChildServes(ids.first);
  });

  it(
    "deploy (git ref), rollback, and a release unhealthy on one child: zero failed requests through the round-robin name",
    { timeout: 900_000 },
    async () => {
      load = startLoad(inventory, { writesPerSecond: 4, readsPerSecond: 4, label: "release" });
      await load.waitFor("write", (s) => s.ok, 5);

      // Video jobs queued and running while the deploy restarts Celery (warm shutdown): none may be lost.
      const jobs = await queueVideoJobs(4);
      const v2 = await deploy({ ...target(gitApp()).base, app: gitApp(), ref: "v2", confirm: yes });
      assert.equal(v2.ok, true, JSON.stringify(v2.failure));
      assert.equal(v2.celery, "restarted");
      ids.v2 = v2.id;
      await everyChildServes(ids.v2);
      await jobsDone(jobs);

      const back = await rollback({ ...target(gitApp()).base, app: gitApp(), confirm: yes });
      assert.equal(back.ok, true, JSON.stringify(back.failures));
      assert.equal(back.to, ids.first);
      console.log(`# rollback: ${ids.v2} → ${ids.first} live on every child in ${(back.liveMs / 1000).toFixed(1)} s`);
      await everyChildServes(ids.first);

      const broken = await deploy({ ...target(gitApp()).base, app: gitApp(), ref: "broken-on-child-2", confirm: yes });
      assert.equal(broken.ok, false);
      assert.equal(broken.failure?.node, "lab-child-2");
      assert.match(broken.failure!.output, /candidate=unhealthy[\s\S]*503/);
      assert.deepEqual(broken.reverted, ["lab-child-1"], "lab-child-1 had switched: it went back");
      await everyChildServes(ids.first);
      const worker = inventory.nodes.find((n) => n.role === "worker")!;
      const s = parseReleaseStatus(
        (
          await labSsh(worker.name, [
            ...releaseStatus({
              releases: RELEASE_PATHS.releases,
              nodeCurrent: RELEASE_PATHS.nodeCurrent,
              shareCurrent: RELEASE_PATHS.shareCurrent,
              maintenanceFlag: RELEASE_PATHS.maintenanceFlag,
              readOnlyFlag: RELEASE_PATHS.readOnlyFlag,
            }),
          ])
        ).stdout,
      );
      assert.equal(s.shareCurrent, ids.first);
      assert.ok(s.releases.find((x) => x.id === broken.id)?.failed, "the broken release is marked failed");

      timeline.push(...(await load.stop()));
      load = undefined;
      const failed = timeline.filter((x) => !x.ok);
      console.log(
        `# load: ${timeline.length} requests over ${((timeline[timeline.length - 1].end - timeline[0].start) / 1000).toFixed(0)} s, ${failed.length} failed`,
      );
      assert.ok(timeline.length > 100, `the load ran (${timeline.length} requests)`);
      assert.deepEqual(
        failed.map((x) => `${x.kind} ${x.status} ${x.error}`),
        [],
        "no request failed",
      );
    },
  );

  it(
    "maintenance and read-only: what a visitor sees on every child; health and normal service unaffected",
    { timeout: 300_000 },
    async () => {
      const base = target(SAMPLE_APP).base;
      const m = await setMaintenance({ ...base, mode: "maintenance", confirm: yes });
      assert.equal(m.ok, true, m.failures.join("\n"));
      console.log(`# maintenance on every child in ${(Math.max(...Object.values(m.childMs)) / 1000).toFixed(1)} s`);
      for (const c of children) {
        const page = await web(fqdn, c.publicAddress, "/notes/", ["-i"]);
        assert.equal(page.status, 503);
        assert.match(page.body, /^Retry-After: 120/im);
        assert.match(page.body, /down for maintenance/i);
        assert.equal((await web(fqdn, c.publicAddress, "/health/")).status, 200, "the health path still answers");
      }
      const ro = await setMaintenance({ ...base, mode: "read-only", confirm: yes });
      assert.equal(ro.ok, true, ro.failures.join("\n"));
      for (const c of children) {
        assert.equal((await web(fqdn, c.publicAddress, "/notes/")).status, 200, "reads are served");
        const write = await web(fqdn, c.publicAddress, "/notes/", ["-i", "-X", "POST", "--data", "text=read-only"]);
        assert.equal(write.status, 503);
        assert.match(write.body, /^X-Django-HA-Mode: read-only/im);
        assert.match(write.body, /read-only for a moment/i);
      }
      const off = await setMaintenance({ ...base, mode: "normal", confirm: yes });
      assert.equal(off.ok, true, off.failures.join("\n"));
      for (const c of children)
        assert.equal((await web(fqdn, c.publicAddress, "/notes/", ["-X", "POST", "--data", "text=normal"])).status, 201);
    },
  );

  it(
    "the operator's CLI: rollback --to a named release, then deploy of the stack's app reuses the bootstrap's build",
    { timeout: 600_000 },
    async () => {
      const dry = await operator("rollback", ["--stack", "lab", "--to", ids.v2, "--dry-run"]);
      assert.equal(dry.code, 0, dry.out);
      assert.match(dry.out, new RegExp(`${ids.first} → ${ids.v2}`));
      await everyChildServes(ids.first);
      const to = await operator("rollback", ["--stack", "lab", "--to", ids.v2, "--yes"]);
      assert.equal(to.code, 0, to.out);
      assert.match(to.out, new RegExp(`${ids.v2} is live on every child`));
      await everyChildServes(ids.v2);
      const again = await operator("deploy", ["--stack", "lab", "--yes"]);
      assert.equal(again.code, 0, again.out);
      assert.match(again.out, /holds this source already: nothing to build/);
      assert.match(again.out, new RegExp(`deployed ${ids.first}`));
      await everyChildServes(ids.first);
    },
  );
});
