import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { directoryHash, makeTarball, sha256 } from "./hash";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hash-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function tree(name: string): string {
  const d = path.join(tmp, name);
  fs.mkdirSync(path.join(d, "pkg"), { recursive: true });
  fs.writeFileSync(path.join(d, "manage.py"), "print()\n", { mode: 0o755 });
  fs.writeFileSync(path.join(d, "pkg", "a.py"), "A = 1\n");
  return d;
}

describe("directoryHash", () => {
  it("is the same for the same content, whatever the times", () => {
    const a = tree("a");
    const b = tree("b");
    fs.utimesSync(path.join(b, "pkg", "a.py"), new Date(0), new Date(0));
    assert.equal(directoryHash(a), directoryHash(b));
  });

  it("changes with content, names, the executable bit and symlinks", () => {
    const base = directoryHash(tree("c"));
    const d = tree("d");
    fs.writeFileSync(path.join(d, "pkg", "a.py"), "A = 2\n");
    assert.notEqual(directoryHash(d), base);
    const e = tree("e");
    fs.chmodSync(path.join(e, "manage.py"), 0o644);
    assert.notEqual(directoryHash(e), base);
    const f = tree("f");
    fs.renameSync(path.join(f, "pkg", "a.py"), path.join(f, "pkg", "b.py"));
    assert.notEqual(directoryHash(f), base);
    const g = tree("g");
    fs.symlinkSync("pkg/a.py", path.join(g, "link"));
    assert.notEqual(directoryHash(g), base);
  });

  it("ignores Python bytecode caches, which the tarball leaves out too", () => {
    const base = directoryHash(tree("h"));
    const i = tree("i");
    fs.mkdirSync(path.join(i, "pkg", "__pycache__"));
    fs.writeFileSync(path.join(i, "pkg", "__pycache__", "a.cpython-311.pyc"), "bytes");
    fs.writeFileSync(path.join(i, "stray.pyc"), "bytes");
    assert.equal(directoryHash(i), base);
    const out = path.join(tmp, "i.tgz");
    makeTarball(i, out);
    const listed = execFileSync("tar", ["-tzf", out], { encoding: "utf8" }).split("\n").filter(Boolean).sort();
    assert.deepEqual(listed, ["./", "./manage.py", "./pkg/", "./pkg/a.py"]);
  });

  it("refuses a path that is not a directory", () => {
    assert.throws(() => directoryHash(path.join(tmp, "nope")), /upload source .*nope is not a directory/);
  });
});

describe("sha256", () => {
  it("is the hex digest sha256sum prints", () => {
    assert.equal(sha256("abc"), execFileSync("sha256sum", { input: "abc", encoding: "utf8" }).split(" ")[0]);
  });
});
