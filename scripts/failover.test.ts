import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { Journal } from "../ops/failover";
import { hostsInventory } from "../model";
import { main } from "./failover";
import { captureCli } from "../test/cli-capture";
import { hostsStackSpec } from "../test/hosts-spec";

/** Run the CLI in-process, capturing what it prints. */
const cli = (args: string[]) => captureCli(main, args);

describe("npm run failover", () => {
  it("--help names the kinds, the fence options and what they risk", async () => {
    const r = await cli(["--help"]);
    assert.equal(r.code, 0);
    for (const o of [
      "--planned",
      "--dry-run",
      "--yes",
      "--fence-command",
      "--operator-fenced",
      "--skip-fence-risking-two-primaries",
      "--accept-data-loss",
    ])
      assert.ok(r.out.includes(o), o);
    assert.match(r.out.replace(/\s+/g, " "), /two machines accept writes/);
  });

  it("--dry-run prints the plan of the stack's current primary and standby, and contacts nothing", async () => {
    const inv = hostsInventory(hostsStackSpec("hosts-example"));
    const r = await cli(["--stack", "hosts-example", "--dry-run"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`emergency failover of stack hosts-example: ${inv.primary} → ${inv.standby}`));
    assert.match(
      r.out,
      /1\. establish the situation .*\n.*2\. check what .* holds.*\n.*3\. the operator confirms .* powered off.*\n.*4\. promote/,
    );
    assert.match(r.out, /dry run: nothing was contacted or changed/);
    const planned = await cli(["--stack", "hosts-example", "--planned", "--dry-run"]);
    assert.match(planned.out, /planned failover .*\n(.*\n)*.*becomes the standby of/);
  });

  it("a hosts stack without a way to fence is refused before anything is contacted", async () => {
    const r = await cli(["--stack", "hosts-example", "--identity", "/dev/null"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: No way to fence .*: this stack has no power API\. .*--operator-fenced/);
  });

  it("emergency-only flags are refused with --planned", async () => {
    const r = await cli(["--stack", "hosts-example", "--planned", "--accept-data-loss", "--dry-run"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /--planned stops the old primary cleanly and loses nothing/);
  });

  it("rejoin has its own --help, and is refused while a failover of the stack is unfinished", async () => {
    const help = await cli(["rejoin", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out.replace(/\s+/g, " "), /pg_rewind.*--force/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rejoin-"));
    const state = process.env.DJANGO_HA_STATE_DIR;
    process.env.DJANGO_HA_STATE_DIR = dir;
    try {
      Journal.start(path.join(dir, "hosts-example", "failover.json"), { kind: "emergency", stack: "hosts-example", from: "a", to: "b" });
      const r = await cli(["rejoin", "--stack", "hosts-example", "--identity", "/dev/null"]);
      assert.equal(r.code, 1);
      assert.match(r.err, /A failover of stack hosts-example \(a → b\) did not finish: finish it first/);
    } finally {
      if (state === undefined) delete process.env.DJANGO_HA_STATE_DIR;
      else process.env.DJANGO_HA_STATE_DIR = state;
    }
  });
});
