import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allRolePackages } from "../roles/packages";
import { BASE_PACKAGES, INFRA_PACKAGES } from "./config";
import { chrootInstallScript, imageKey, imagePackages, mirrorFromSources, mountsUnder, sourcesForSuite } from "./image";

describe("imagePackages", () => {
  it("is base + every role package + lab infra, sorted and unique", () => {
    const pkgs = imagePackages();
    for (const p of [...BASE_PACKAGES, ...allRolePackages(), ...INFRA_PACKAGES]) assert.ok(pkgs.includes(p), p);
    assert.deepEqual(pkgs, [...new Set(pkgs)].sort());
  });
});

describe("imageKey", () => {
  it("does not depend on order or duplicates", () => {
    assert.equal(imageKey(["b", "a", "a"], 1), imageKey(["a", "b"], 1));
  });
  it("changes with the package list, the format version and the suite", () => {
    const k = imageKey(["a", "b"], 1, "bookworm");
    assert.notEqual(imageKey(["a", "b", "c"], 1, "bookworm"), k);
    assert.notEqual(imageKey(["a", "b"], 2, "bookworm"), k);
    // Another suite is another image: a cached bookworm image is never booted as a trixie node.
    assert.notEqual(imageKey(["a", "b"], 1, "trixie"), k);
    assert.match(imageKey(["a", "b"]), /^trixie-v\d+-/);
    assert.notEqual(imageKey(["a", "b"], 1, "trixie"), k);
    assert.match(k, /^bookworm-v1-[0-9a-f]{16}$/);
  });
});

describe("mirrorFromSources", () => {
  const sources = [
    "Types: deb",
    "# http://snapshot.example/archive",
    "URIs: http://mirror.example/debian",
    "Suites: bookworm bookworm-updates",
    "Components: main",
    "",
    "Types: deb",
    "URIs: http://mirror.example/debian-security",
    "Suites: bookworm-security",
    "",
  ].join("\n");
  it("takes the URI of the stanza that carries the suite", () => {
    assert.equal(mirrorFromSources(sources, "bookworm"), "http://mirror.example/debian");
    assert.throws(() => mirrorFromSources(sources, "trixie"), /No "deb" source for suite trixie/);
  });
  it("a Debian 12 host's sources, rewritten for the nodes' suite, keep mirrors, components and suffixes", () => {
    const rewritten = sourcesForSuite(sources, "trixie");
    assert.equal(
      rewritten,
      sources
        .replace("Suites: bookworm bookworm-updates", "Suites: trixie trixie-updates")
        .replace("Suites: bookworm-security", "Suites: trixie-security"),
    );
    assert.equal(mirrorFromSources(rewritten, "trixie"), "http://mirror.example/debian");
    assert.equal(sourcesForSuite(rewritten, "trixie"), rewritten);
    assert.equal(
      sourcesForSuite("Types: deb\nURIs: http://m/debian\nsuites:   stable stable-backports\n", "trixie"),
      "Types: deb\nURIs: http://m/debian\nsuites:   trixie trixie-backports\n",
    );
  });
  it("ignores deb-src stanzas and fails naming the file and the fix when none fits", () => {
    const onlySrc = "Types: deb-src\nURIs: http://x.example/debian\nSuites: bookworm\n";
    assert.throws(
      () => mirrorFromSources(onlySrc, "bookworm", "/etc/x.sources"),
      /No "deb" source for suite bookworm in \/etc\/x\.sources.*Suites: bookworm/,
    );
  });
});

describe("chrootInstallScript", () => {
  it("installs without recommends and cleans apt's caches", () => {
    assert.equal(
      chrootInstallScript(["a", "b"]),
      [
        "set -eu",
        "export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8",
        "apt-get update -qq",
        "apt-get install -y -q --no-install-recommends a b",
        "apt-get clean",
        "rm -rf /var/lib/apt/lists/*",
      ].join("\n"),
    );
  });
});

describe("mountsUnder", () => {
  const proc = [
    "overlay /work/.lab/nodes/a/root overlay rw 0 0",
    "proc /work/.lab/images/k.baking/root/proc proc rw 0 0",
    "tmpfs /work/.lab-other tmpfs rw 0 0",
    "overlay /work/.lab/nodes/with\\040space/root overlay rw 0 0",
    "sysfs /sys sysfs rw 0 0",
  ].join("\n");
  it("lists mounts at or below the dir, deepest first, decoding octal escapes, not siblings sharing a prefix", () => {
    assert.deepEqual(mountsUnder(proc, "/work/.lab/"), [
      "/work/.lab/images/k.baking/root/proc",
      "/work/.lab/nodes/with space/root",
      "/work/.lab/nodes/a/root",
    ]);
  });
});

describe("image lock", () => {
  it("an entry is busy while a live process holds its key's lock, not after", async () => {
    const fs = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const { imageBusy } = await import("./image");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-img-"));
    const saved = process.env.LAB_DIR;
    process.env.LAB_DIR = dir;
    try {
      fs.mkdirSync(path.join(dir, "images"));
      const lock = path.join(dir, "images", "bookworm-v1-abc.lock");
      assert.equal(imageBusy("bookworm-v1-abc.baking"), false);
      fs.writeFileSync(lock, `${process.pid}\n`);
      assert.equal(imageBusy("bookworm-v1-abc.baking"), true);
      assert.equal(imageBusy("bookworm-v1-abc.tar.zst.tmp"), true);
      assert.equal(imageBusy("bookworm-v1-other.baking"), false);
      fs.writeFileSync(lock, "2147483646\n"); // no such process
      assert.equal(imageBusy("bookworm-v1-abc.baking"), false);
    } finally {
      if (saved === undefined) delete process.env.LAB_DIR;
      else process.env.LAB_DIR = saved;
      fs.rmSync(dir, { recursive: true });
    }
  });
});
