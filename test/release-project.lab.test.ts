/**
 * The second project (test/projects/ledger: its own settings package, WSGI callable, Celery app, requirements
 * from the lab's index, a migration, /-/health/) as the lab stack's app, one lab boot: the bootstrap builds its
 * first release (pip installs ledgerfmt from the lab index), then a deploy of a changed version from git, and a
 * rollback; each serves on every child.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { isClean, labBootstrapHook, labDown, labRemoveVolumes, labSource, labSsh, labUp } from "../lab";
import { deploy, parseReleaseStatus, releaseStatus, releaseTarget, rollback, type ReleaseApp } from "../ops/release";
import { RELEASE_HEADER, RELEASE_PATHS } from "../roles/release";
import type { Inventory } from "../model";
import { web } from "./drill";
import { LEDGER_CONFIG, ledgerApp } from "./projects";

const quiet = () => undefined;
const yes = async () => true;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-ledger-lab-"));
let inventory: Inventory;
let fqdn: string;
let children: { name: string; publicAddress: string }[];

after(async () => {
  const left = await labDown({ log: quiet });
  fs.rmSync(tmp, { recursive: true, force: true });
  assert.ok(isClean(left), `lab down left something behind: ${JSON.stringify(left)}`);
});

function target(app: ReleaseApp) {
  const t = releaseTarget({ stack: "lab", app, sources: [labSource()] });
  return { ...t, base: { ...t.base, log: quiet } };
}

describe("the second project (ledger) deploys, rolls back and serves", { timeout: 1_200_000 }, () => {
  const ledger = ledgerApp();
  let first = "";
  let ledgerRepo = "";
  const page = async (address: string) => {
    const r = await web(fqdn, address, "/", ["-i"]);
    assert.equal(r.status, 200, r.body);
    return r.body;
  };

  before(async () => {
    await labDown({ log: quiet });
    await labRemoveVolumes({ log: quiet });
    inventory = (await labUp({ log: quiet, afterBoot: [labBootstrapHook({ app: ledger })] })).inventory;
    fqdn = inventory.recordFqdn;
    children = inventory.nodes.filter((n) => n.role === "child");
    ledgerRepo = path.join(tmp, "ledger");
    fs.cpSync(LEDGER_CONFIG.path, ledgerRepo, { recursive: true, filter: (s) => path.basename(s) !== "__pycache__" });
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", ledgerRepo, "-c", "user.name=lab", "-c", "user.email=lab@example.org", ...args], { encoding: "utf8" });
    git("init", "-q", "-b", "main");
    fs.writeFileSync(path.join(ledgerRepo, "RELEASE_NOTE"), "ledger v2\n");
    git("add", "-A");
    git("commit", "-q", "-m", "ledger v2");
  });

  it("the bootstrap's first release: requirements from the lab index, its health path, its page naming the release", async () => {
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
    first = s.shareCurrent!;
    assert.ok(first);
    for (const c of children) {
      const health = await web(fqdn, c.publicAddress, ledger.healthPath, ["-i"]);
      assert.equal(health.status, 200, health.body);
      assert.match(health.body, new RegExp(`^${RELEASE_HEADER}: ${first}`, "im"));
      assert.match(await page(c.publicAddress), new RegExp(first));
    }
    const write = await web(fqdn, children[0].publicAddress, "/entries/", [
      "-X",
      "POST",
      "--data",
      '{"amount_cents": 1250, "note": "lab"}',
    ]);
    assert.equal(write.status, 201, write.body);
    // Its task goes to Celery's default queue, which the worker consumes (django-ha:app.celeryQueues' default).
    const id = (JSON.parse(write.body) as { id: number }).id;
    let booked = "";
    for (let i = 0; i < 60 && !booked; i++) {
      const r = await web(fqdn, children[0].publicAddress, `/entries/${id}/`);
      booked = (JSON.parse(r.body) as { booked_by: string }).booked_by;
      if (!booked) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.match(booked, new RegExp(`^lab-worker\\S*@${first}$`), "the worker ran the entry's task on the first release");
  });

  it("deploy from git, then rollback: each release serves on every child", async () => {
    const app: ReleaseApp = { ...ledger, source: { kind: "git", url: ledgerRepo, ref: "main" } };
    const t = target(app);
    const v2 = await deploy({ ...t.base, app, confirm: yes });
    assert.equal(v2.ok, true, JSON.stringify(v2.ok ? undefined : v2.failure));
    for (const c of children) assert.match(await page(c.publicAddress), new RegExp(v2.id));
    const back = await rollback({ ...t.base, app, confirm: yes });
    assert.equal(back.ok, true, JSON.stringify(back.failures));
    assert.equal(back.to, first);
    for (const c of children) assert.match(await page(c.publicAddress), new RegExp(first));
  });
});
