/** The lab's after-boot hook, run against a throwaway sshd on 127.0.0.1 standing in for the lab nodes. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { NodePlan } from "../roles/types";
import { hostsInventory, Inventory, InventoryNode, UserError } from "../model";
import type { BootstrapSummary } from "../ops/bootstrap";
import { startTestSshServer, TestSshServer } from "../test/ssh-server";
import { labBootstrapHook } from "./bootstrap";
import { labPaths, type LabPaths } from "./config";
import { hostsStackSpec } from "../test/hosts-spec";

describe("labBootstrapHook", () => {
  let server: TestSshServer;
  let dir: string;
  let inventory: Inventory;
  let paths: LabPaths;
  before(async () => {
    server = await startTestSshServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-hook-"));
    const lab = hostsInventory(hostsStackSpec("lab"));
    inventory = {
      ...lab,
      ssh: { user: server.username, port: server.port },
      nodes: lab.nodes.map((n) => ({ ...n, publicAddress: "127.0.0.1" })),
    };
    paths = labPaths(path.join(dir, "lab"));
    fs.mkdirSync(path.dirname(paths.sshKey), { recursive: true });
    fs.writeFileSync(paths.sshKey, server.privateKey, { mode: 0o600 });
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const planFor =
    (failOn?: string) =>
    (node: InventoryNode): NodePlan => ({
      node,
      role: node.role,
      actions: [
        {
          kind: "file",
          file: { path: path.join(dir, "nodes", node.name, "motd"), content: `${node.name}\n`, mode: "0644", owner: "root", group: "root" },
        },
        { kind: "script", name: "setup", script: node.name === failOn ? "echo 'cannot reach primary.lab.internal' >&2; exit 2" : "true" },
      ],
      checks: [],
    });

  it("bootstraps every node, logging labelled progress and the summary; secrets and lock under .django-ha/lab", async () => {
    const lines: string[] = [];
    let summary: BootstrapSummary | undefined;
    const hook = labBootstrapHook({ stateRoot: path.join(dir, "state"), planFor: planFor(), onSummary: (s) => (summary = s) });
    await hook({ inventory, paths, log: (l) => lines.push(l) });
    assert.ok(summary);
    assert.equal(summary.ok, true);
    assert.equal(summary.results.length, 5);
    assert.ok(
      lines.some((l) => /^lab-db-2 +│ file .*motd: changed \(\d+ ms\)$/.test(l)),
      lines.join("\n"),
    );
    assert.match(lines.at(-1)!, /^bootstrap finished: 5 nodes in \d+\.\d s$/);
    assert.equal(fs.readFileSync(path.join(dir, "nodes", "lab-worker", "motd"), "utf8"), "lab-worker\n");
    const again: string[] = [];
    await hook({ inventory, paths, log: (l) => again.push(l) });
    assert.equal(again.filter((l) => / no changes \(/.test(l)).length, 5, again.join("\n"));
  });

  it("a failing node makes the hook throw the summary (so lab up fails with node, step and output)", async () => {
    const hook = labBootstrapHook({ stateRoot: path.join(dir, "state"), planFor: planFor("lab-child-2") });
    await assert.rejects(hook({ inventory, paths, log: () => {} }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /lab-child-2 +FAILED at script setup \(exit 2\):\n +\| cannot reach primary\.lab\.internal/);
      assert.match(e.message, /lab-child-1 +no changes/);
      return true;
    });
  });
});
