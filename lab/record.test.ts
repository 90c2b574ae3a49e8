import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { hostsInventory } from "../model";
import { labPaths } from "./config";
import { readLabPrimary, recordLabPrimary, withLabRecord } from "./record";
import { hostsStackSpec } from "../test/hosts-spec";

describe("the lab's record of its primary", () => {
  it("is written beside the volumes, rewrites the running lab's inventory and is what the lab's inventory follows", () => {
    const paths = labPaths(fs.mkdtempSync(path.join(os.tmpdir(), "lab-record-")));
    const inv = hostsInventory(hostsStackSpec("lab"));
    const tracked = fs.readFileSync(path.join(__dirname, "..", "stacks", "Pulumi.lab.yaml"), "utf8");
    assert.equal(withLabRecord(inv, "lab", paths), inv, "no record: the stack's primary");
    fs.writeFileSync(paths.inventory, JSON.stringify(inv));
    assert.match(recordLabPrimary("lab", inv.standby, paths), /stacks\/Pulumi\.lab\.yaml untouched/);
    assert.equal(readLabPrimary("lab", paths), inv.standby);
    assert.equal(readLabPrimary("lab-wide", paths), undefined, "per stack");
    const after = withLabRecord(inv, "lab", paths);
    assert.equal(after.primary, inv.standby);
    assert.equal(after.nodes.find((n) => n.name === inv.standby)!.role, "parent");
    assert.equal(JSON.parse(fs.readFileSync(paths.inventory, "utf8")).primary, inv.standby);
    assert.equal(fs.readFileSync(path.join(__dirname, "..", "stacks", "Pulumi.lab.yaml"), "utf8"), tracked);
  });

  it("a record naming a machine that is not one of the database pair is refused with the fix", () => {
    const paths = labPaths(fs.mkdtempSync(path.join(os.tmpdir(), "lab-record-")));
    const inv = hostsInventory(hostsStackSpec("lab"));
    recordLabPrimary("lab", "someone-else", paths);
    assert.throws(
      () => withLabRecord(inv, "lab", paths),
      /names someone-else as primary, which is not a database machine of stack lab.*Remove the file/,
    );
  });
});
