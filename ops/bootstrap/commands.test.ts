import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { CHANGED_MARKER } from "../../roles/types";
import { shellJoin } from "../../roles/shell";
import * as cmd from "./commands";
import { sha256 } from "./hash";

/** Run a builder's argv locally through bash exactly as the remote login shell would. */
function local(argv: readonly string[], stdin = "") {
  const r = spawnSync("bash", ["-c", shellJoin(argv)], { input: stdin, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("command builders", () => {
  it("build argv with data as positional arguments, never spliced into the program", () => {
    const argv = cmd.writeFile({ path: "/etc/x y", mode: "0640", owner: "root", group: "adm" }, "abc");
    assert.deepEqual([argv[0], argv[1], argv[3], ...argv.slice(4)], ["bash", "-c", "django-ha", "/etc/x y", "640", "root", "adm", "abc"]);
    assert.deepEqual(cmd.probePackages(["nginx", "uwsgi"]).slice(3), ["django-ha", "nginx", "uwsgi"]);
    assert.deepEqual(cmd.installPackages(["nginx"]).slice(3), ["django-ha", "/var/log/django-ha/apt.log", "40", "nginx"]);
    assert.deepEqual(cmd.runScript("init db/1", CHANGED_MARKER).slice(3), [
      "django-ha",
      "/var/log/django-ha/script-init_db_1.log",
      CHANGED_MARKER,
      "40",
    ]);
    assert.deepEqual(cmd.runCheck("pg_isready"), ["bash", "-euo", "pipefail", "-c", "pg_isready"]);
  });

  it("every fixed bash program passes shellcheck", () => {
    const programs = [
      cmd.probePackages([]),
      cmd.installPackages([]),
      cmd.writeFile({ path: "/a", mode: "0644", owner: "root", group: "root" }, "x"),
      cmd.probeUpload("/srv/app"),
      cmd.replaceUpload({ remoteDir: "/srv/app", owner: "root", group: "root" }, "h"),
      cmd.runScript("s", CHANGED_MARKER),
      cmd.probeService("nginx"),
      cmd.probeFile("/etc/x"),
    ].map((a) => a[2]);
    for (const p of programs) {
      const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: p, encoding: "utf8" });
      assert.equal(r.status, 0, `shellcheck:\n${r.stdout}\n--- program:\n${p}`);
    }
  });

  it("normalizes modes the way stat prints them", () => {
    assert.equal(cmd.normalMode("0644"), "644");
    assert.equal(cmd.normalMode("0600"), "600");
    assert.equal(cmd.normalMode("01777"), "1777");
    assert.equal(cmd.normalMode("755"), "755");
  });

  it("places upload hashes and tarballs beside the directory", () => {
    assert.equal(cmd.uploadHashFile("/srv/app"), "/srv/.app.django-ha-sha256");
    assert.equal(cmd.uploadHashFile("/srv/app/"), "/srv/.app.django-ha-sha256");
    assert.equal(cmd.uploadHashFile("/app"), "/.app.django-ha-sha256");
    assert.equal(cmd.uploadTarball("/srv/app/"), "/srv/app.django-ha-upload.tgz");
  });

  it("finds the missing packages from dpkg-query output", () => {
    const out = "bash\tinstalled\nnginx\tconfig-files\ncurl\tinstalled\n";
    assert.deepEqual(cmd.missingPackages(["bash", "nginx", "curl", "uwsgi", "bash"], out), ["nginx", "uwsgi"]);
    assert.deepEqual(cmd.missingPackages(["bash:amd64"], out), []);
    // And against the real dpkg of this machine: bash is always installed.
    const real = local(cmd.probePackages(["bash", "no-such-package-django-ha"]));
    assert.equal(real.code, 0);
    assert.deepEqual(cmd.missingPackages(["bash", "no-such-package-django-ha"], real.stdout), ["no-such-package-django-ha"]);
  });

  it("parses the script runner's report", () => {
    assert.deepEqual(cmd.parseScriptOutput("changed=1\nrc=0\nhello\n"), { changed: true, code: 0, tail: "hello" });
    assert.deepEqual(cmd.parseScriptOutput("changed=0\nrc=2\na\nb\n"), { changed: false, code: 2, tail: "a\nb" });
    assert.throws(() => cmd.parseScriptOutput("garbage"), /unexpected output/);
  });

  it("runs scripts with bash -euo pipefail, detects the marker line, keeps the full log on the node", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runscript-"));
    const argv = [...cmd.runScript("s", CHANGED_MARKER)];
    argv[4] = path.join(dir, "s.log"); // log into the temp dir instead of /var/log
    const changed = local(argv, `echo doing\necho '${CHANGED_MARKER}'\n`);
    assert.equal(fs.statSync(path.join(dir, "s.log")).mode & 0o777, 0o600, "script output is root-only (scripts may handle secrets)");
    assert.deepEqual(cmd.parseScriptOutput(changed.stdout), { changed: true, code: 0, tail: `doing\n${CHANGED_MARKER}` });
    const unset = local(argv, `echo before\necho "$UNSET_VARIABLE_X"\necho after\n`);
    const o = cmd.parseScriptOutput(unset.stdout);
    assert.equal(o.code, 1);
    assert.match(o.tail, /^before\n.*UNSET_VARIABLE_X: unbound variable$/);
    const pipe = cmd.parseScriptOutput(local(argv, `false | true\necho not reached\n`).stdout);
    assert.equal(pipe.code, 1);
    const notMarker = cmd.parseScriptOutput(local(argv, `echo 'x ${CHANGED_MARKER}'\n`).stdout);
    assert.equal(notMarker.changed, false, "the marker must be a whole line");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("writes a file atomically only when content, mode or owner differ", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "writefile-"));
    const target = path.join(dir, "sub dir", "it's.conf");
    const me = execFileSync("id", ["-un"], { encoding: "utf8" }).trim();
    const grp = execFileSync("id", ["-gn"], { encoding: "utf8" }).trim();
    const file = { path: target, mode: "0640", owner: me, group: grp };
    const content = "a = 1\n$(not expanded)\n";
    const sha = sha256(content);
    assert.equal(local(cmd.writeFile(file, sha), content).stdout, "changed\n");
    assert.equal(fs.readFileSync(target, "utf8"), content);
    assert.equal(fs.statSync(target).mode & 0o7777, 0o640);
    assert.equal(local(cmd.writeFile(file, sha), content).stdout, "unchanged\n");
    assert.equal(local(cmd.writeFile({ ...file, mode: "0600" }, sha), content).stdout, "changed\n");
    const damaged = local(cmd.writeFile(file, sha), "other\n");
    assert.equal(damaged.code, 1);
    assert.match(damaged.stderr, /content arrived damaged/);
    assert.deepEqual(fs.readdirSync(path.dirname(target)), ["it's.conf"], "no temp files left behind");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("probeFile / fileDifferences (--diff)", () => {
  it("names what differs, reading the file only", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "probefile-"));
    const f = path.join(dir, "a b.conf");
    const want = {
      sha256: sha256("v1\n"),
      mode: "0640",
      owner: os.userInfo().username,
      group: execFileSync("id", ["-gn"], { encoding: "utf8" }).trim(),
    };
    assert.deepEqual(cmd.fileDifferences(local(cmd.probeFile(f)).stdout, want), ["absent"]);
    fs.writeFileSync(f, "v1\n", { mode: 0o640 });
    fs.chmodSync(f, 0o640);
    assert.deepEqual(cmd.fileDifferences(local(cmd.probeFile(f)).stdout, want), []);
    fs.writeFileSync(f, "v2\n");
    fs.chmodSync(f, 0o644);
    assert.deepEqual(cmd.fileDifferences(local(cmd.probeFile(f)).stdout, want), ["content", "mode 644 → 640"]);
    assert.deepEqual(cmd.fileDifferences(`${sha256("v1\n")} 640 root root`, { ...want, owner: "postgres", group: "postgres" }), [
      "owner root:root → postgres:postgres",
    ]);
    assert.equal(fs.readFileSync(f, "utf8"), "v2\n", "probing changes nothing");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("serviceCommands", () => {
  const unit = "nginx.service";
  const started = { name: unit, state: "started" as const, enabled: true };
  const table: [string, cmd.ServiceWanted, cmd.ServiceState, boolean, string[]][] = [
    ["already fine", started, { enabled: "enabled", active: "active" }, false, []],
    ["start + enable a fresh unit", started, { enabled: "disabled", active: "inactive" }, false, ["enable", "start"]],
    ["restart on a changed file", started, { enabled: "enabled", active: "active" }, true, ["restart"]],
    ["reload instead when asked", { ...started, reload: true }, { enabled: "enabled", active: "active" }, true, ["reload"]],
    ["no restart right after a start", started, { enabled: "enabled", active: "failed" }, true, ["start"]],
    ["static units need no enable", started, { enabled: "static", active: "active" }, false, []],
    ["unmask first", started, { enabled: "masked", active: "inactive" }, false, ["unmask", "enable", "start"]],
    [
      "stop and disable",
      { name: unit, state: "stopped", enabled: false },
      { enabled: "enabled", active: "active" },
      false,
      ["disable", "stop"],
    ],
    ["stopped already", { name: unit, state: "stopped", enabled: false }, { enabled: "disabled", active: "inactive" }, true, []],
    [
      "mask a running unit",
      { name: unit, state: "masked", enabled: false },
      { enabled: "enabled", active: "active" },
      false,
      ["mask", "stop"],
    ],
    ["masked already", { name: unit, state: "masked", enabled: false }, { enabled: "masked", active: "inactive" }, true, []],
    [
      "a unit to stay off that failed before the bootstrap: its failure is forgotten",
      { name: unit, state: "stopped", enabled: false },
      { enabled: "enabled", active: "failed" },
      false,
      ["disable", "reset-failed"],
    ],
    [
      "a failed unit to mask: masked and forgotten",
      { name: unit, state: "masked", enabled: false },
      { enabled: "enabled", active: "failed" },
      false,
      ["mask", "reset-failed"],
    ],
  ];
  for (const [title, wanted, now, triggered, verbs] of table) {
    it(title, () => {
      assert.deepEqual(
        cmd.serviceCommands(wanted, now, triggered),
        verbs.map((v) => ["systemctl", v, "--", unit]),
      );
    });
  }

  it("parses systemctl's answers", () => {
    assert.deepEqual(cmd.parseServiceProbe("enabled=enabled\nactive=active\n"), { enabled: "enabled", active: "active" });
    assert.deepEqual(cmd.parseServiceProbe("enabled=\nactive=inactive\n"), { enabled: "", active: "inactive" });
  });

  it("knows which paths are systemd units", () => {
    assert.equal(cmd.isUnitFile("/etc/systemd/system/app.service"), true);
    assert.equal(cmd.isUnitFile("/etc/systemd/system/nginx.service.d/override.conf"), true);
    assert.equal(cmd.isUnitFile("/etc/nginx/nginx.conf"), false);
    assert.equal(cmd.isUnitFile("/etc/systemd/timesyncd.conf"), false);
  });
});
