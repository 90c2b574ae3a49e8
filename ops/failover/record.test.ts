import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import YAML from "yaml";
import { UserError } from "../../model/errors";
import { Journal } from "./journal";
import { run } from "../process";
import { pulumiConfigSet, recordInStackFile, recordWithPulumi, withPrimaryInStackText, type Runner } from "./record";

const stackText = `# The shop's machines
config:
  django-ha:provider: hosts # existing machines
  django-ha:clusterName: shop
  # where the database lives
  django-ha:hosts:
    parent: { name: shop-db-1, address: 10.0.0.5 }
`;

describe("the record in a stack file", () => {
  it("sets django-ha:primary and keeps every comment and the rest of the file", () => {
    const out = withPrimaryInStackText(stackText, "shop-db-2");
    assert.equal(YAML.parse(out).config["django-ha:primary"], "shop-db-2");
    for (const comment of ["# The shop's machines", "# existing machines", "# where the database lives"])
      assert.ok(out.includes(comment), comment);
    assert.ok(out.includes("parent: { name: shop-db-1, address: 10.0.0.5 }"));
    const again = withPrimaryInStackText(out, "shop-db-1");
    assert.equal(YAML.parse(again).config["django-ha:primary"], "shop-db-1");
    assert.equal(withPrimaryInStackText(again, "shop-db-1"), again, "unchanged when already recorded");
  });

  it("refuses a file that is not a stack file, naming it", () => {
    assert.throws(
      () => withPrimaryInStackText("a: [1,\n", "x", "stacks/Pulumi.bad.yaml"),
      (e: unknown) => e instanceof UserError && /stacks\/Pulumi\.bad\.yaml is not valid YAML/.test(e.message),
    );
    assert.throws(() => withPrimaryInStackText("other: 1\n", "x", "f.yaml"), /no config: map/);
  });

  it("writes the file atomically and says so", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "record-"));
    const file = path.join(dir, "Pulumi.shop.yaml");
    fs.writeFileSync(file, stackText);
    assert.match(recordInStackFile(file, "shop-db-2"), /django-ha:primary = shop-db-2 \(commit this change\)/);
    assert.match(recordInStackFile(file, "shop-db-2"), /already shop-db-2/);
    assert.deepEqual(fs.readdirSync(dir), ["Pulumi.shop.yaml"]);
  });
});

describe("the record through the Pulumi CLI", () => {
  it("runs pulumi config set for the stack", async () => {
    const calls: string[][] = [];
    const line = await recordWithPulumi(
      "prod",
      "prod-db-2",
      async (c) => (calls.push([c.cmd, ...c.args]), { code: 0, stdout: "", stderr: "" }),
    );
    assert.deepEqual(calls, [pulumiConfigSet("prod", "prod-db-2")]);
    assert.deepEqual(calls[0], ["pulumi", "config", "set", "--stack", "prod", "django-ha:primary", "prod-db-2"]);
    assert.match(line, /run pulumi up/);
  });

  it("without the CLI: a UserError with the exact command to run", async () => {
    // The real runner, on a program that is not installed.
    const missing: Runner = (c, o) => run({ ...c, cmd: "django-ha-no-such-pulumi" }, o);
    await assert.rejects(
      recordWithPulumi("prod", "prod-db-2", missing),
      (e: unknown) =>
        e instanceof UserError &&
        /the Pulumi CLI is not installed here\)\. Run it yourself before the next pulumi up: pulumi config set --stack prod django-ha:primary prod-db-2$/.test(
          e.message,
        ),
    );
  });
});

describe("the record through the Pulumi CLI, when it fails", () => {
  it("names the CLI's own last stderr line", async () => {
    const failing: Runner = (_c, o) =>
      run({ cmd: "sh", args: ["-c", "echo progress; echo 'error: no stack named prod' >&2; exit 255"] }, o);
    await assert.rejects(
      recordWithPulumi("prod", "prod-db-2", failing),
      (e: unknown) => e instanceof UserError && /\(error: no stack named prod\)\. Run it yourself/.test(e.message),
    );
  });
});

describe("the journal", () => {
  it("records done steps across processes and moves to history when finished", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "journal-"));
    const file = path.join(dir, "failover.json");
    assert.equal(Journal.open(file), undefined);
    const j = Journal.start(file, { kind: "emergency", stack: "s", from: "a", to: "b" });
    j.markDone("fence");
    j.noteUnreachable("c", "ETIMEDOUT");
    const again = Journal.open(file)!;
    assert.equal(again.isDone("fence"), true);
    assert.equal(again.isDone("promote"), false);
    assert.deepEqual(again.data.unreachable, { c: "ETIMEDOUT" });
    const kept = again.finish();
    assert.equal(fs.existsSync(file), false);
    assert.match(path.basename(kept), /-emergency-a-to-b\.json$/);
    assert.ok(JSON.parse(fs.readFileSync(kept, "utf8")).finishedAt);
  });

  it("a damaged journal is a UserError saying what to do", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "journal-"));
    const file = path.join(dir, "failover.json");
    fs.writeFileSync(file, "{");
    assert.throws(() => Journal.open(file), /not readable JSON .*move it away/);
  });
});
