import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { hostsInventory } from "../model";
import { hostsStackSpec } from "../test/hosts-spec";

const root = path.resolve(__dirname, "..");
const labDir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-cli-"));
const lab = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", path.join(root, "scripts/lab.ts"), ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, LAB_DIR: labDir },
  });

/** A lab state as `up` writes it, for the node checks (no node runs: only --dry-run and refusals are tried). */
function writeLab(): void {
  const inventory = hostsInventory(hostsStackSpec("lab"));
  const nodes = Object.fromEntries(inventory.nodes.map((n) => [n.name, { name: n.name, address: n.publicAddress }]));
  fs.writeFileSync(
    path.join(labDir, "state.json"),
    JSON.stringify({ version: 1, imageKey: "k", imageRoot: "/nonexistent", zone: "lab.test", nodes }),
  );
  fs.writeFileSync(path.join(labDir, "inventory.json"), JSON.stringify(inventory));
}

describe("npm run lab -- fence|start (lab power as an operator verb)", () => {
  after(() => fs.rmSync(labDir, { recursive: true, force: true }));

  it("refuses when no lab is up, saying how to start one", () => {
    for (const verb of ["fence", "start"]) {
      const r = lab(verb, "lab-db-1");
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.equal(r.stderr, `error: No lab is up (${path.join(labDir, "state.json")} missing): run \`npm run lab -- up\` first.\n`);
    }
  });

  it("refuses an unknown node, listing the lab's nodes", () => {
    writeLab();
    const r = lab("fence", "lab-parnet", "--dry-run");
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'error: No lab node "lab-parnet". Lab nodes: lab-db-1, lab-db-2, lab-child-1, lab-child-2, lab-worker.\n');
  });

  it("--dry-run says what it would do through the lab's power and changes nothing", () => {
    writeLab();
    const before = fs.readFileSync(path.join(labDir, "state.json"), "utf8");
    const fence = lab("fence", "lab-db-1", "--dry-run");
    assert.equal(fence.status, 0, fence.stderr);
    assert.equal(
      fence.stdout,
      "would power lab-db-1 off hard through lab power (systemd-nspawn) (no clean shutdown; its disk stays); nothing changed\n",
    );
    const start = lab("start", "lab-db-1", "--dry-run");
    assert.equal(start.status, 0, start.stderr);
    assert.equal(start.stdout, "would start lab-db-1 through lab power (systemd-nspawn) and wait until it answers SSH; nothing changed\n");
    assert.equal(fs.readFileSync(path.join(labDir, "state.json"), "utf8"), before);
  });
});

describe("npm run lab -- up --acme-validity (the lab's ACME CA)", () => {
  it("--dry-run names pebble's directory and the certificate lifetime asked for (90 days by default)", () => {
    const short = lab("up", "--dry-run", "--acme-validity", "120");
    assert.equal(short.status, 0, short.stderr);
    assert.match(short.stdout, /^acme https:\/\/10\.231\.0\.3:14000\/dir \(pebble on lab-acme\): certificates valid 120 s$/m);
    assert.match(lab("up", "--dry-run").stdout, /certificates valid 7776000 s$/m);
  });
  it("refuses a lifetime that is not a whole number of seconds, naming the value and an example", () => {
    for (const bad of ["0", "2m", "-5", "1.5"]) {
      const r = lab("up", "--dry-run", "--acme-validity", bad);
      assert.equal(r.status, 1, bad);
      assert.match(r.stderr, new RegExp(`"${bad.replace(".", "\\.")}" is not a whole number of seconds ≥ 1; e\\.g\\. --acme-validity 120`));
    }
  });
});
