/**
 * Releases end to end in the lab (issue 12), one lab boot: the bootstrap builds the first release on the worker
 * and every child starts on it; then, while a client writes and reads through the round-robin name at a steady
 * rate from outside, a deploy from a git ref, a rollback, and a release that fails its health check on one child
 * (rolled back automatically on the child that had switched) — the client must see zero failed requests.
 * During the deploy, a slow request is in flight on a child while its uWSGI workers are replaced, and a video job is
 * mid-transcode while Celery warm-restarts: both must complete (the request with 200 from the release that served
 * it, the job done once, with a valid output).
 * Then maintenance and read-only mode as a visitor sees them, and the operator's CLI.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { isClean, labBootstrapHook, labDown, labRemoveVolumes, labSource, labUp } from "../lab";
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
import { CELERY_UNIT } from "../roles/worker";
import { PATHS } from "../roles/context";
import type { ReleaseRunBase } from "../ops/release/nodes";
import type { RemoteExecutor } from "../ops/ssh/executor";
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

/** A test clip of `seconds` (8 s: well under a second of ffmpeg work on the worker; 180 s: several seconds), made once. */
function testClip(seconds = 8): string {
  const clip = path.join(tmp, `clip-${seconds}.avi`);
  if (!fs.existsSync(clip))
    execFileSync("ffmpeg", ["-loglevel", "error", "-f", "lavfi", "-i", `testsrc=duration=${seconds}:size=640x480:rate=25`, "-y", clip]);
  return clip;
}

/** Upload `n` video jobs through the children in turn; their ids. */
async function queueVideoJobs(n: number, seconds = 8): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await web(fqdn, children[i % children.length].publicAddress, "/videos/", ["-F", `file=@${testClip(seconds)}`]);
    assert.equal(r.status, 202, r.body);
    ids.push((JSON.parse(r.body) as { id: number }).id);
  }
  return ids;
}

interface Job {
  id: number;
  status: string;
  output: string | null;
  attempts: number;
  started: string | null;
  finished: string | null;
}

const videoJob = async (id: number): Promise<Job> => JSON.parse((await web(fqdn, children[0].publicAddress, `/videos/${id}/`)).body) as Job;

/** Poll a job until `until` says so (or about three minutes pass); its last state. */
async function waitForJob(id: number, until: (j: Job) => boolean, pollMs = 1000): Promise<Job> {
  let job = await videoJob(id);
  for (let waited = 0; waited < 180_000 && !until(job); waited += pollMs) {
    await new Promise((r) => setTimeout(r, pollMs));
    job = await videoJob(id);
  }
  return job;
}

/** Every job reaches "done", each run exactly once (a redelivered job would show attempts 2). */
async function jobsDone(jobIds: number[]): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const id of jobIds) {
    const job = await waitForJob(id, (j) => ["done", "failed"].includes(j.status));
    assert.equal(job.status, "done", `video job ${id} across the deploy: ${JSON.stringify(job)}`);
    assert.equal(job.attempts, 1, `video job ${id} ran once (no redelivery): ${JSON.stringify(job)}`);
    jobs.push(job);
  }
  return jobs;
}

/**
 * The run's SSH with `before(node, argv)` awaited ahead of every command: the test starts a request or a job just
 * before the deploy's switch of a node (the deploy itself is unchanged).
 */
function hooked(base: ReleaseRunBase, before: (node: string, argv: readonly string[]) => Promise<void>): ReleaseRunBase {
  return {
    ...base,
    connect: async (node) => {
      const exec = await base.connect(node);
      const wrapped: RemoteExecutor = {
        node: exec.node,
        run: async (argv, options) => {
          await before(node.name, argv);
          return exec.run(argv, options);
        },
        putFile: (local, remote) => exec.putFile(local, remote),
        close: () => exec.close(),
      };
      return wrapped;
    },
  };
}

/** A request in flight on a child while its switch chain-reloads uWSGI; and a video job running at Celery's restart. */
interface InFlight {
  request?: Promise<{ status: number; body: string }>;
  /** When the child's switch began (ms since the epoch; the nodes share this machine's clock). */
  switchAt?: number;
  job?: number;
  /** The job's state just before the worker's switch (it must be running), and when that switch began. */
  jobBefore?: Job;
  restartAt?: number;
}

function inFlightHooks(state: InFlight): (node: string, argv: readonly string[]) => Promise<void> {
  return async (node, argv) => {
    if (node === children[0].name && argv.includes(RELEASE_PATHS.uwsgiStats) && !state.request) {
      // In a worker of the running release before the link moves; it answers after the chain reload began.
      state.request = web(fqdn, children[0].publicAddress, "/slow/?seconds=5", ["-i"]);
      await new Promise((r) => setTimeout(r, 1500));
      state.switchAt = Date.now();
    }
    if (node === workerName() && argv.includes(CELERY_UNIT) && state.job === undefined) {
      [state.job] = await queueVideoJobs(1, 180);
      state.jobBefore = await waitForJob(state.job, (j) => j.status !== "queued", 250);
      state.restartAt = Date.now();
    }
  };
}

const workerName = () => inventory.nodes.find((n) => n.role === "worker")!.name;

/** The slow request completed with 200, from the release that served it (the old one), across the switch. */
async function assertRequestCompleted(state: InFlight, oldId: string): Promise<void> {
  assert.ok(state.request && state.switchAt, "the slow request was started before lab-child-1's switch");
  const r = await state.request;
  assert.equal(r.status, 200, r.body);
  const header = new RegExp(`^${RELEASE_HEADER}: (\\S+)`, "im").exec(r.body)?.[1];
  const body = JSON.parse(r.body.slice(r.body.indexOf("{"))) as { release: string; pid: number; started: number; finished: number };
  assert.equal(body.release, header, "the body comes from the release that served it");
  assert.equal(body.release, oldId, "a worker of the release running before the switch served it");
  assert.ok(body.started * 1000 < state.switchAt && body.finished * 1000 > state.switchAt, `in flight across the switch: ${r.body}`);
  const gone = await labSsh(children[0].name, ["test", "-e", `/proc/${body.pid}`]);
  assert.notEqual(gone.code, 0, `the uWSGI worker ${body.pid} that served it was replaced by the chain reload`);
  console.log(
    `# in-flight request on ${children[0].name}: ${(body.finished - body.started).toFixed(1)} s, 200 from ${oldId} (worker ${body.pid}, replaced)`,
  );
}

/** The job was mid-transcode when Celery's restart began, finished once after it, and its output is a valid video. */
async function assertJobSpannedRestart(state: InFlight, jobs: Job[]): Promise<void> {
  const job = jobs.find((j) => j.id === state.job);
  assert.ok(job && state.jobBefore && state.restartAt, "a long video job was queued before the worker's switch");
  assert.equal(state.jobBefore.status, "running", `the job was running when Celery's restart began: ${JSON.stringify(state.jobBefore)}`);
  assert.ok(
    Date.parse(job.started!) < state.restartAt && Date.parse(job.finished!) > state.restartAt,
    `mid-run at the restart: ${JSON.stringify(job)}`,
  );
  const media = `${PATHS.media}/videos/${job.id}.mp4`;
  const probe = await labSsh(workerName(), ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", media]);
  assert.equal(probe.code, 0, probe.stderr);
  assert.ok(Math.abs(Number(probe.stdout.trim()) - 180) < 1, `the output is the whole 180 s clip: ${probe.stdout}`);
  console.log(
    `# video job ${job.id}: started ${((state.restartAt - Date.parse(job.started!)) / 1000).toFixed(1)} s before Celery's restart, done ${((Date.parse(job.finished!) - state.restartAt) / 1000).toFixed(1)} s after it, once`,
  );
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
  const t = releaseTarget({ stack: "lab", app, sources: [labSource()] });
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

      // Video jobs queued before the deploy, and a long one running while it restarts Celery (warm shutdown): none
      // lost, none run twice. A slow request in flight on lab-child-1 while its workers are replaced completes.
      const jobs = await queueVideoJobs(4);
      const inFlight: InFlight = {};
      const base = hooked(target(gitApp()).base, inFlightHooks(inFlight));
      const v2 = await deploy({ ...base, app: gitApp(), ref: "v2", confirm: yes, celeryWaitSeconds: 300 });
      assert.equal(v2.ok, true, JSON.stringify(v2.ok ? undefined : v2.failure));
      assert.equal(v2.celery, "restarted");
      ids.v2 = v2.id;
      await everyChildServes(ids.v2);
      await assertRequestCompleted(inFlight, ids.first);
      await assertJobSpannedRestart(inFlight, await jobsDone([...jobs, inFlight.job!]));

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
