import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { type BuildArgs, buildRelease, migrate } from "./build";
import { candidateHealth, parsePrevious, switchChild, switchWorker } from "./switch";
import { markFailed, pruneReleases, setShareCurrent } from "./share";
import { modeProbe, parseModeProbe, setFlags } from "./maintenance";
import { parseReleaseStatus, releaseStatus } from "./status";
import { assertProgramsPassShellcheck } from "../../../test/shellcheck";
import { modeShown } from "../maintenance";

const buildArgs: BuildArgs = {
  releases: "/srv/share/releases",
  id: "20261201090507-0123456789ab",
  tarball: "/var/tmp/x.tar.gz",
  requirements: "requirements.txt",
  pythonIndexUrl: "http://10.231.0.1:8080/simple",
  settingsModule: "proj.settings",
  facts: { source: "dir:/x", sourceHash: "0123456789ab" },
  buildLock: "/srv/share/releases/.build.lock",
  staticRoot: "/srv/share/static",
  user: "django",
  log: "/var/log/django-ha/release.log",
  envFiles: ["/etc/django-ha/app.env", "/etc/django-ha/app-secrets.env"],
};

const programs = {
  status: releaseStatus({
    releases: "/srv/share/releases",
    nodeCurrent: "/var/lib/django-ha/current",
    shareCurrent: "/srv/share/releases/current",
    maintenanceFlag: "/m",
    readOnlyFlag: "/r",
  }),
  build: buildRelease(buildArgs),
  migrate: migrate("/srv/share/releases/20261201090507-0123456789ab", "proj.settings", "/srv/share/releases/.migrate.lock", "django", [
    "/etc/django-ha/app.env",
  ]),
  candidate: candidateHealth({
    releaseDir: "/srv/share/releases/20261201090507-0123456789ab",
    id: "20261201090507-0123456789ab",
    wsgiModule: "proj.wsgi:application",
    settingsModule: "proj.settings",
    healthPath: "/health/",
    host: "www.example.com",
    timeoutSeconds: 60,
    user: "django",
    libDir: "/usr/lib/django-ha",
    header: "X-Django-HA-Release",
    loaderModule: "django_ha_release",
    envFiles: ["/etc/django-ha/app.env"],
  }),
  switchChild: switchChild({
    link: "/var/lib/django-ha/current",
    releaseDir: "/srv/share/releases/20261201090507-0123456789ab",
    id: "20261201090507-0123456789ab",
    unit: "django-ha-uwsgi.service",
    statsSocket: "/run/django-ha-uwsgi/stats.sock",
    healthPath: "/health/",
    fqdn: "www.example.com",
    httpsPort: 443,
    fullchain: "/etc/django-ha/tls/fullchain.pem",
    selfSigned: "/etc/django-ha/tls/SELF-SIGNED",
    timeoutSeconds: 60,
    header: "X-Django-HA-Release",
    staticRoot: "/srv/share/static",
    user: "django",
  }),
  switchWorker: switchWorker(
    "/var/lib/django-ha/current",
    "/srv/share/releases/20261201090507-0123456789ab",
    "20261201090507-0123456789ab",
    "django-ha-celery.service",
    60,
  ),
  setCurrent: setShareCurrent("/srv/share/releases/current", "20261201090507-0123456789ab", "django"),
  markFailed: markFailed("/srv/share/releases/20261201090507-0123456789ab", "django", "lab-child-1: switch\nhealth 500"),
  prune: pruneReleases("/srv/share/releases", "/srv/share/releases/.build.lock", "django", ["20261201090507-0123456789ab"]),
  flags: setFlags("/srv/share/.django-ha", "django", { maintenance: true, readOnly: false }),
  modeProbe: modeProbe({
    fqdn: "www.example.com",
    httpsPort: 443,
    fullchain: "/etc/django-ha/tls/fullchain.pem",
    selfSigned: "/etc/django-ha/tls/SELF-SIGNED",
    probePath: "/.django-ha/mode-probe",
    header: "X-Django-HA-Mode",
  }),
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "release-commands-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Run a program here, as this machine's root (user "root" in the data). */
function run(argv: readonly string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe("release commands (every program of this folder; status, current, failed, prune and flags together on a real tree)", () => {
  it("every fixed bash program passes shellcheck", () => assertProgramsPassShellcheck(programs));

  it("data travels as positional arguments, never inside the program text", () => {
    // A plain-http index is trusted by host (pip ignores it otherwise); an https one is not.
    assert.deepEqual(programs.build.slice(15, 17), ["10.231.0.1:8080", "/etc/django-ha/app.env"]);
    assert.equal(buildRelease({ ...buildArgs, pythonIndexUrl: "https://pypi.org/simple" })[15], "");
    assert.deepEqual(programs.migrate.slice(3), [
      "django-ha-release",
      "/srv/share/releases/20261201090507-0123456789ab",
      "proj.settings",
      "/srv/share/releases/.migrate.lock",
      "django",
      "/etc/django-ha/app.env",
    ]);
    for (const [name, argv] of Object.entries(programs)) {
      for (const value of ["20261201090507", "www.example.com", "proj.settings", "10.231.0.1", "/srv/share"])
        assert.ok(!argv[2].includes(value), `${name} embeds ${value}`);
    }
  });

  it("status lists the releases, both links and the flags; prune, current, failed and flags act on a real tree", () => {
    const releases = path.join(tmp, "releases");
    const a = "20261201000001-aaaaaaaaaaaa";
    const b = "20261201000002-bbbbbbbbbbbb";
    for (const id of [a, b]) fs.mkdirSync(path.join(releases, id, "src"), { recursive: true });
    fs.writeFileSync(path.join(releases, a, ".ready"), "");
    fs.writeFileSync(path.join(releases, a, "release.json"), `{\n  "id": "${a}",\n  "sourceHash": "aaaaaaaaaaaaffff"\n}\n`);
    fs.mkdirSync(path.join(releases, "app"));
    const link = path.join(tmp, "node-current");
    fs.symlinkSync(path.join(releases, a), link);
    const flags = path.join(tmp, "flags");
    const paths = {
      releases,
      nodeCurrent: link,
      shareCurrent: path.join(releases, "current"),
      maintenanceFlag: path.join(flags, "maintenance"),
      readOnlyFlag: path.join(flags, "read-only"),
    };

    assert.equal(run(setShareCurrent(paths.shareCurrent, a, "root")).code, 0);
    assert.equal(fs.readlinkSync(paths.shareCurrent), a);
    assert.equal(run(markFailed(path.join(releases, b), "root", "child-1: 500")).code, 0);
    assert.equal(run(setFlags(flags, "root", { maintenance: false, readOnly: true })).code, 0);

    const s = parseReleaseStatus(run(releaseStatus(paths)).stdout);
    assert.deepEqual(s, {
      shareCurrent: a,
      nodeCurrent: a,
      releases: [
        { id: a, ready: true, failed: false, sourceHash: "aaaaaaaaaaaaffff" },
        { id: b, ready: false, failed: true },
      ],
      maintenance: false,
      readOnly: true,
    });

    fs.chmodSync(path.join(releases, b, "src"), 0o555);
    const pruned = run(pruneReleases(releases, path.join(releases, ".build.lock"), "root", [b]));
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, new RegExp(`deleted=${b}`));
    assert.ok(!fs.existsSync(path.join(releases, b)) && fs.existsSync(path.join(releases, a)));
    assert.notEqual(
      run(pruneReleases(releases, path.join(releases, ".build.lock"), "root", ["../app"])).code,
      0,
      "only release ids are deleted",
    );
    assert.ok(fs.existsSync(path.join(releases, "app")));
    assert.equal(run(setFlags(flags, "root", { maintenance: true, readOnly: false })).code, 0);
    assert.ok(fs.existsSync(paths.maintenanceFlag) && !fs.existsSync(paths.readOnlyFlag));
  });

  it("parses the switch programs' previous release and the mode probe", () => {
    assert.equal(parsePrevious("previous=20261201000001-aaaaaaaaaaaa\nswitched=ok\n"), "20261201000001-aaaaaaaaaaaa");
    assert.equal(parsePrevious("previous=app\n"), undefined);
    const answer = parseModeProbe("get=503 maintenance\npost=503 maintenance\n");
    assert.ok(modeShown("maintenance", answer));
    assert.ok(!modeShown("read-only", answer));
    assert.ok(modeShown("read-only", parseModeProbe("get=404 app\npost=503 read-only\n")));
    assert.ok(modeShown("normal", parseModeProbe("get=404 app\npost=403 app\n")));
    assert.ok(!modeShown("maintenance", parseModeProbe("get=none app\n")));
  });
});
