import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import {
  buildPythonIndex,
  HOST_PYTHON,
  indexServerArgv,
  isIndexServer,
  labPythonIndexUrl,
  normalizeProjectName,
  renderSimpleIndex,
  startPythonIndex,
  wheelProject,
} from "./pyindex";

describe("the lab's Python index: pure parts", () => {
  it("normalizes project names as PEP 503 says", () => {
    for (const [given, want] of [
      ["Django_HA.Test-kit", "django-ha-test-kit"],
      ["ledgerfmt", "ledgerfmt"],
      ["A__B--C..D", "a-b-c-d"],
    ])
      assert.equal(normalizeProjectName(given), want);
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/), (n) => {
        const once = normalizeProjectName(n);
        assert.equal(normalizeProjectName(once), once, "idempotent");
        assert.match(once, /^[a-z0-9-]*$/);
      }),
    );
  });

  it("reads the project of a wheel file name, refuses other files", () => {
    assert.equal(wheelProject("ledgerfmt-1.0.0-py3-none-any.whl"), "ledgerfmt");
    assert.equal(wheelProject("Django_HA_kit-2.1-1-py3-none-any.whl"), "django-ha-kit");
    assert.throws(() => wheelProject("ledgerfmt-1.0.0.tar.gz"), /not a wheel file name/);
  });

  it("renders the root page and one page per project, with sha256 fragments", () => {
    const pages = renderSimpleIndex([
      { name: "b_pkg-1.0-py3-none-any.whl", sha256: "11" },
      { name: "a-2.0-py3-none-any.whl", sha256: "22" },
      { name: "b_pkg-1.1-py3-none-any.whl", sha256: "33" },
    ]);
    assert.deepEqual([...pages.keys()].sort(), ["simple/a/index.html", "simple/b-pkg/index.html", "simple/index.html"]);
    assert.match(pages.get("simple/index.html")!, /<a href="a\/">a<\/a>\n<a href="b-pkg\/">b-pkg<\/a>/);
    assert.match(
      pages.get("simple/b-pkg/index.html")!,
      /href="\.\.\/\.\.\/files\/b_pkg-1\.0-py3-none-any\.whl#sha256=11".*\n.*b_pkg-1\.1-py3-none-any\.whl#sha256=33/,
    );
  });

  it("the server binds the lab host's address only; its argv is recognised as the lab's", () => {
    const argv = indexServerArgv("/x/pyindex");
    assert.deepEqual(argv, [HOST_PYTHON, "-m", "http.server", "--bind", "10.231.0.1", "--directory", "/x/pyindex", "3141"]);
    assert.ok(isIndexServer(argv));
    assert.ok(!isIndexServer([HOST_PYTHON, "-m", "http.server", "--bind", "0.0.0.0", "8000"]));
    assert.equal(labPythonIndexUrl(), "http://10.231.0.1:3141/simple/");
  });
});

describe("the lab's Python index: built from test/projects/wheels and read by pip (loopback)", { timeout: 180_000 }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pyindex-"));
  let pid = 0;
  let url = "";
  before(async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    await buildPythonIndex(path.join(tmp, "index"));
    ({ pid, url } = await startPythonIndex(path.join(tmp, "index"), path.join(tmp, "server.log"), { address: "127.0.0.1", port }));
  });
  after(() => {
    if (pid) process.kill(pid, "SIGTERM");
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("builds a pure-Python wheel of every source, and only again when a source changes", async () => {
    const again = await buildPythonIndex(path.join(tmp, "index"));
    assert.equal(again.built, false);
    assert.deepEqual(
      again.files.map((f) => f.name),
      ["ledgerfmt-1.0.0-py3-none-any.whl"],
    );
  });

  const pip = (...args: string[]) =>
    spawnSync(HOST_PYTHON, ["-m", "pip", ...args], {
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin", HOME: tmp, PIP_NO_CACHE_DIR: "1", PIP_DISABLE_PIP_VERSION_CHECK: "1" },
      timeout: 60_000,
    });

  it("pip downloads the package from it, the sha256 checked", () => {
    const r = pip("download", "--no-deps", "--index-url", url, "-d", path.join(tmp, "dl"), "ledgerfmt==1.0.0");
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(fs.readdirSync(path.join(tmp, "dl")), ["ledgerfmt-1.0.0-py3-none-any.whl"]);
  });

  it("pip finds nothing else there", () => {
    const r = pip("download", "--no-deps", "--index-url", url, "-d", path.join(tmp, "dl2"), "requests");
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /No matching distribution found for requests/);
  });
});

describe("lab stacks use the lab's index", () => {
  for (const stack of ["lab", "lab-wide"]) {
    it(stack, async () => {
      const { loadStackSpec } = await import("../model");
      assert.equal(loadStackSpec(stack).app.pythonIndexUrl, labPythonIndexUrl());
    });
  }
});
