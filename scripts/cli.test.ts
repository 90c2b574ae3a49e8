import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { ConfigError, UserError } from "../model";
import { confirm, elapsed, formatError, runCli } from "./cli";

const root = path.resolve(__dirname, "..");

/** A stdin stand-in: a terminal or not, with the operator's typed answer. */
function fakeStdin(answer: string | undefined, isTTY: boolean): PassThrough & { isTTY?: boolean } {
  const input = new PassThrough() as PassThrough & { isTTY?: boolean };
  input.isTTY = isTTY;
  if (answer !== undefined) input.end(`${answer}\n`);
  return input;
}

function sink(): PassThrough & { text: () => string } {
  const out = new PassThrough() as PassThrough & { text: () => string };
  let text = "";
  out.on("data", (c) => (text += String(c)));
  out.text = () => text;
  return out;
}

describe("confirm", () => {
  for (const [answer, expected] of [
    ["y", true],
    ["YES", true],
    [" yes ", true],
    ["n", false],
    ["", false],
    ["maybe", false],
  ] as const) {
    it(`on a terminal, "${answer}" answers ${expected}`, async () => {
      const output = sink();
      assert.equal(await confirm("Fence lab-db-1?", { input: fakeStdin(answer, true), output }), expected);
      assert.equal(output.text(), "Fence lab-db-1? [y/N] ");
    });
  }

  it("without a terminal refuses, naming --yes", async () => {
    await assert.rejects(confirm("Fence lab-db-1?", { input: fakeStdin("y", false) }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.equal(e.message, "Fence lab-db-1?\nNo terminal to ask on: pass --yes to go ahead.");
      return true;
    });
  });

  it("--yes goes ahead without reading anything, even without a terminal", async () => {
    const output = sink();
    assert.equal(await confirm("Fence lab-db-1?", { yes: true, input: fakeStdin(undefined, false), output }), true);
    assert.equal(output.text(), "");
  });

  it("--dry-run asks nothing and answers no (nothing is to be changed)", async () => {
    assert.equal(await confirm("Fence lab-db-1?", { dryRun: true, yes: true, input: fakeStdin(undefined, false) }), false);
  });
});

describe("formatError", () => {
  it("prints an operator's error as its message only", () => {
    assert.equal(
      formatError(new UserError("No lab is up: run `npm run lab -- up` first.")),
      "error: No lab is up: run `npm run lab -- up` first.",
    );
  });

  it("prints a config error as its message (every problem, no stack)", () => {
    const e = new ConfigError([{ key: "django-ha:ttl", value: "10", fix: "set it to 30" }], "Pulumi.x.yaml");
    assert.equal(formatError(e), "error: Invalid django-ha config in Pulumi.x.yaml (1 problem):\n  - django-ha:ttl = 10: set it to 30");
  });

  it("prints anything else with its stack (a bug to report)", () => {
    const e = new TypeError("x is undefined");
    e.stack = "TypeError: x is undefined\n    at f (a.ts:1:1)";
    assert.equal(formatError(e), "error: TypeError: x is undefined\n    at f (a.ts:1:1)");
    assert.equal(formatError("boom"), "error: boom");
  });

  it("elapsed prints seconds with one decimal", () => {
    assert.equal(elapsed(1000, 5250), "4.3 s");
  });
});

describe("runCli", () => {
  it("returns the body's code, 0 for none, 1 with the printed error for a throw", async () => {
    const err = sink();
    assert.equal(await runCli(async () => 3, err), 3);
    assert.equal(await runCli(async () => undefined, err), 0);
    assert.equal(err.text(), "");
    assert.equal(
      await runCli(async () => {
        throw new UserError("Nothing done.");
      }, err),
      1,
    );
    assert.equal(err.text(), "error: Nothing done.\n");
  });
});

describe("every operator script", () => {
  for (const [script, usage] of [
    ["scripts/lab.ts", /^Usage: lab \[options\] \[command\]/m],
    ["scripts/bootstrap.ts", /^Usage: bootstrap \[options\]/m],
    ["scripts/plan-cli.ts", /^Usage: plan \[options\]/m],
  ] as const) {
    it(`${script} --help prints its usage and exits 0`, () => {
      const r = spawnSync(process.execPath, ["--import", "tsx", path.join(root, script), "--help"], { cwd: root, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, usage);
    });
  }

  it("a UserError from a verb is printed as `error: <message>` and exits 1 (lab replace of an unknown node)", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "scripts/lab.ts"), "replace", "lab-nope", "--dry-run"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, LAB_DIR: path.join(root, ".no-lab-here") },
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^error: No running lab node "lab-nope"/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
