import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { hostsInventory, loadStackSpec } from "../spec";
import { main } from "./bootstrap";

/** Run the CLI in-process, capturing what it prints. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const log = console.log;
  const write = process.stderr.write.bind(process.stderr);
  console.log = (...a: unknown[]) => void (out += `${a.join(" ")}\n`);
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), out, err };
  } finally {
    console.log = log;
    process.stderr.write = write;
  }
}

describe("npm run bootstrap", () => {
  it("--dry-run prints every node's plan without connecting", async () => {
    const r = await cli(["--stack", "lab", "--dry-run", "--only", "lab-parent,lab-worker"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^dry run: stack lab .*nothing is contacted or changed$/m);
    assert.match(r.out, /^lab-parent │ parent at root@10\.231\.0\.11:22, \d+ actions, \d+ checks$/m);
    assert.match(r.out, /^lab-worker │ worker at root@10\.231\.0\.31:22/m);
    assert.doesNotMatch(r.out, /lab-child-1/);
    assert.match(r.out, /^dry run done in \d+\.\d s$/m);
  });

  it("refuses bad arguments with the value and the fix", async () => {
    const r = await cli(["--stack", "lab", "--dry-run", "--concurrency", "0"]);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /"0" is not a whole number from 1 to 64/);
    const unknown = await cli(["--stack", "lab", "--dry-run", "--only", "lab-child-7"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /--only names "lab-child-7", not in the inventory/);
  });

  it("asks before changing machines; without a terminal it needs --yes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-cli-"));
    const inv = path.join(dir, "inventory.json");
    fs.writeFileSync(inv, JSON.stringify(hostsInventory(loadStackSpec("lab"))));
    const isTTY = process.stdin.isTTY;
    process.stdin.isTTY = false;
    try {
      const r = await cli(["--stack", "lab", "--inventory", inv]);
      assert.equal(r.code, 2);
      assert.match(r.err, /Bootstrap lab-parent, lab-standby, lab-child-1, lab-child-2, lab-worker of stack lab as root \(services may restart\)\?\nNo terminal to ask on: pass --yes/);
    } finally {
      process.stdin.isTTY = isTTY;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
