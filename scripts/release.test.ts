import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { captureCli } from "../test/cli-capture";
import { main as deploy } from "./deploy";
import { main as rollback } from "./rollback";
import { main as maintenance } from "./maintenance";

describe("npm run deploy / rollback / maintenance", () => {
  it("--help of each names --stack, --dry-run and --yes, and what the verb does", async () => {
    for (const [verb, main, words] of [
      ["deploy", deploy, /one at a time.*rolled back/],
      ["rollback", rollback, /nothing is downloaded or built/],
      ["maintenance", maintenance, /Retry-After.*read-only/],
    ] as const) {
      const r = await captureCli(main, ["--help"]);
      assert.equal(r.code, 0, verb);
      for (const o of ["--stack", "--dry-run", "--yes"]) assert.ok(r.out.includes(o), `${verb} ${o}`);
      assert.match(r.out.replace(/\s+/g, " "), words, verb);
    }
  });

  it("deploy --dry-run packs the source and prints the plan in order, contacting nothing", async () => {
    const r = await captureCli(deploy, ["--stack", "lab-wide", "--dry-run"]);
    assert.equal(r.code, 0, r.err);
    const steps = r.out.split("\n").filter((l) => /│ \d+\. /.test(l));
    assert.deepEqual(
      steps.map((l) => /\d+\. (\S+): (\S+)/.exec(l)!.slice(1, 3).join(": ")),
      [
        "lab-worker: upload",
        "lab-worker: build",
        "lab-worker: migrate",
        "lab-child-1: prove",
        "lab-child-2: prove",
        "lab-child-3: prove",
        "lab-child-4: prove",
        "lab-worker: switch",
        "share: /srv/share/releases/current",
        "share: delete",
      ],
    );
    assert.match(r.out, /release \d{14}-[0-9a-f]{12} from dir:.*\/app/);
  });

  it("refuses bad input naming the value and the fix, before anything is contacted", async () => {
    const bad = await captureCli(maintenance, ["--stack", "lab", "maybe"]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /"maybe" is neither on nor off: npm run maintenance -- --stack lab on\|off/);
    const off = await captureCli(maintenance, ["--stack", "lab", "off", "--read-only"]);
    assert.match(off.err, /--read-only goes with on/);
    const ref = await captureCli(deploy, ["--stack", "lab", "--ref", "main", "--dry-run"]);
    assert.equal(ref.code, 1);
    assert.match(ref.err, /--ref main: django-ha:app.path is a directory .* Drop --ref/);
    const missing = await captureCli(deploy, ["--dry-run"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.err, /--stack/);
  });
});
