import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { hostsInventory } from "../model";
import { startTestSshServer } from "../test/ssh-server";
import { main } from "./bootstrap";
import { captureCli } from "../test/cli-capture";
import { hostsStackSpec } from "../test/hosts-spec";

/** Run the CLI in-process, capturing what it prints. */
const cli = (args: string[]) => captureCli(main, args);

describe("npm run bootstrap", () => {
  it("--diff compares the real role plans read-only (this machine plays the lab child over a throwaway sshd)", async () => {
    const server = await startTestSshServer();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-diff-"));
    const state = process.env.DJANGO_HA_STATE_DIR;
    process.env.DJANGO_HA_STATE_DIR = path.join(dir, "state");
    // The lab stack's health agent signs with lab-health; outside the lab its secret comes from the environment.
    process.env.DJANGO_HA_HEALTH_TSIG_SECRET = "dGVzdC1vbmx5LWhlYWx0aA==";
    try {
      const lab = hostsInventory(hostsStackSpec("lab"));
      const inv = {
        ...lab,
        ssh: { user: server.username, port: server.port },
        nodes: lab.nodes.map((n) => ({ ...n, publicAddress: "127.0.0.1" })),
      };
      fs.writeFileSync(path.join(dir, "inventory.json"), JSON.stringify(inv));
      fs.writeFileSync(path.join(dir, "id"), server.privateKey, { mode: 0o600 });
      const args = [
        "--stack",
        "lab",
        "--inventory",
        path.join(dir, "inventory.json"),
        "--identity",
        path.join(dir, "id"),
        "--known-hosts",
        path.join(dir, "kh"),
        "--only",
        "lab-child-1",
        "--diff",
      ];
      const r = await cli(args);
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.out, /^diff: stack lab .* read-only, nothing is changed$/m);
      assert.match(r.out, /^lab-child-1 │ script release-link: not run \(--diff\)$/m);
      assert.match(r.out, /^lab-child-1 +\d+ differences \(/m);
      assert.match(r.out, /- file \/etc\/django-ha\/uwsgi\.ini \(absent\)/);
      assert.match(r.out, /^diff \(nothing changed\) finished: 1 node in \d+\.\d s$/m);
      assert.equal(fs.existsSync("/etc/django-ha/uwsgi.ini"), false, "nothing was written");
      assert.equal(fs.existsSync(path.join(dir, "state", "lab", "secrets.json")), false, "a diff generates no secrets");
    } finally {
      if (state === undefined) delete process.env.DJANGO_HA_STATE_DIR;
      else process.env.DJANGO_HA_STATE_DIR = state;
      delete process.env.DJANGO_HA_HEALTH_TSIG_SECRET;
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--dry-run prints every node's plan without connecting", async () => {
    const r = await cli(["--stack", "lab", "--dry-run", "--only", "lab-db-1,lab-worker"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^dry run: stack lab .*nothing is contacted or changed$/m);
    assert.match(r.out, /^lab-db-1 +│ parent at root@10\.231\.0\.11:22, \d+ actions, \d+ checks$/m);
    assert.match(r.out, /^lab-worker │ worker at root@10\.231\.0\.31:22/m);
    assert.doesNotMatch(r.out, /lab-child-1/);
    assert.match(r.out, /^dry run done in \d+\.\d s$/m);
  });

  it("refuses bad arguments with the value and the fix", async () => {
    const r = await cli(["--stack", "lab", "--dry-run", "--concurrency", "0"]);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /"0" is not a whole number from 1 to 64/);
    const unknown = await cli(["--stack", "lab", "--dry-run", "--only", "lab-child-7"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /--only names "lab-child-7", not in the inventory/);
  });

  it("asks before changing machines; without a terminal it needs --yes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-cli-"));
    const inv = path.join(dir, "inventory.json");
    fs.writeFileSync(inv, JSON.stringify(hostsInventory(hostsStackSpec("lab"))));
    const isTTY = process.stdin.isTTY;
    process.stdin.isTTY = false;
    try {
      const r = await cli(["--stack", "lab", "--inventory", inv]);
      assert.equal(r.code, 1);
      assert.match(
        r.err,
        /^error: Bootstrap lab-db-1, lab-db-2, lab-child-1, lab-child-2, lab-worker of stack lab as root \(services may restart\)\?\nNo terminal to ask on: pass --yes/,
      );
    } finally {
      process.stdin.isTTY = isTTY;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
