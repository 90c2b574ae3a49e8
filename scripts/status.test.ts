import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { captureCli } from "../test/cli-capture";
import { main } from "./status";

const cli = (args: string[]) => captureCli(main, args);

describe("npm run status", () => {
  it("--help says what it shows, that it changes nothing, and the exit statuses", async () => {
    const r = await cli(["--help"]);
    assert.equal(r.code, 0);
    const text = r.out.replace(/\s+/g, " ");
    for (const o of ["--stack", "--json", "--inventory", "--identity", "--known-hosts"]) assert.ok(text.includes(o), o);
    assert.match(text, /Read-only: changes nothing anywhere/);
    assert.match(text, /Exit status 0 when healthy, 1 when something needs a human/);
  });

  it("bad usage exits 2 and names the problem", async () => {
    const r = await cli(["--json"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /required option '--stack <name>' not specified/);
    assert.equal((await cli(["--stack", "lab", "--bogus"])).code, 2);
  });

  it("a cloud stack without its exported inventory is refused with the command that writes it", async () => {
    const r = await cli(["--stack", "digitalocean-example"]);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: Stack digitalocean-example targets digitalocean: .*pulumi stack output inventory --json --stack digitalocean-example > digitalocean-example-inventory.json/,
    );
  });

  it("a missing SSH key is named before anything is contacted", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dha-status-"));
    const r = await cli(["--stack", "hosts-example", "--identity", path.join(dir, "nope")]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: SSH key .*nope does not exist\. Pass the private key .* --identity <file>\./);
  });
});
