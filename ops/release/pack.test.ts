import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { packSource, sourceTree } from "./pack";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "release-pack-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("packing the source (the operator's machine)", () => {
  it("packs a directory with its content hash, and refuses --ref for it", () => {
    const dir = path.join(tmp, "proj");
    fs.mkdirSync(path.join(dir, "proj"), { recursive: true });
    fs.writeFileSync(path.join(dir, "manage.py"), "print('hi')\n");
    const p = packSource({ kind: "dir", path: dir });
    try {
      assert.match(p.sourceHash, /^[0-9a-f]{64}$/);
      assert.deepEqual(execFileSync("tar", ["-tzf", p.tarball], { encoding: "utf8" }).split("\n").filter(Boolean).sort(), [
        "./",
        "./manage.py",
        "./proj/",
      ]);
    } finally {
      p.cleanup();
    }
    assert.throws(() => packSource({ kind: "dir", path: dir }, "main"), /--ref main: django-ha:app.path is a directory/);
    assert.throws(() => packSource({ kind: "dir", path: path.join(tmp, "nope") }), /django-ha:app.path = .* is not a directory/);
  });

  it("packs a git ref from a clone (not the work tree), records the commit, and names the refs it knows", () => {
    const repo = path.join(tmp, "repo");
    fs.mkdirSync(repo);
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { encoding: "utf8" }).trim();
    git("init", "-q", "-b", "main");
    fs.writeFileSync(path.join(repo, "manage.py"), "v1\n");
    git("add", ".");
    git("commit", "-q", "-m", "v1");
    const v1 = git("rev-parse", "HEAD");
    git("tag", "v1");
    fs.writeFileSync(path.join(repo, "manage.py"), "v2\n");
    git("commit", "-q", "-am", "v2");
    fs.writeFileSync(path.join(repo, "manage.py"), "dirty, never shipped\n");
    const main = packSource({ kind: "git", url: repo, ref: "main" });
    const tagged = packSource({ kind: "git", url: repo, ref: "main" }, "v1");
    try {
      const content = (t: string) => execFileSync("tar", ["-xzOf", t, "./manage.py"], { encoding: "utf8" });
      assert.equal(content(main.tarball), "v2\n");
      assert.equal(content(tagged.tarball), "v1\n");
      assert.equal(tagged.facts.commit, v1);
      assert.equal(tagged.facts.ref, "v1");
      assert.notEqual(main.sourceHash, tagged.sourceHash);
    } finally {
      main.cleanup();
      tagged.cleanup();
    }
    const tree = sourceTree({ kind: "git", url: repo, ref: "v1" }, path.join(tmp, "tree-out"));
    assert.equal(fs.readFileSync(path.join(tree.dir, "manage.py"), "utf8"), "v1\n");
    assert.equal(tree.commit, v1);
    assert.throws(
      () => packSource({ kind: "git", url: repo, ref: "main" }, "nope"),
      /--ref = "nope" is not a commit, branch or tag of .*Known: main, v1/,
    );
    assert.throws(() => packSource({ kind: "git", url: path.join(tmp, "no-repo"), ref: "main" }), /git clone .* failed/);
  });
});
