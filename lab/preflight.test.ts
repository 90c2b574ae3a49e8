import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { hostPackages, preflight } from "./preflight";

describe("preflight", () => {
  it("refuses a non-root user with the command to run", async () => {
    await assert.rejects(preflight({ uid: 1000 }), /needs root .*`sudo npm run lab -- up`/);
  });
  it("names missing host packages and the apt-get line that installs them", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-pf-"));
    const file = path.join(dir, "pkgs.txt");
    fs.writeFileSync(file, "# comment\ndpkg\n\ndjango-ha-no-such-pkg-a   # why\ndjango-ha-no-such-pkg-b\n");
    try {
      assert.deepEqual(hostPackages(file), ["dpkg", "django-ha-no-such-pkg-a", "django-ha-no-such-pkg-b"]);
      await assert.rejects(
        preflight({ uid: 0, packagesFile: file }),
        (e: Error) =>
          e.message ===
          "Missing host packages for the lab: django-ha-no-such-pkg-a, django-ha-no-such-pkg-b.\nInstall: apt-get install -y django-ha-no-such-pkg-a django-ha-no-such-pkg-b",
      );
      fs.writeFileSync(file, "dpkg\n");
      await preflight({ uid: 0, packagesFile: file });
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
  it("the lab's own host package list is readable and names the tools the lab runs", () => {
    const pkgs = hostPackages();
    for (const p of ["debootstrap", "systemd-container", "nftables", "zstd", "iproute2", "openssh-client", "bind9-dnsutils"])
      assert.ok(pkgs.includes(p), p);
  });
});
