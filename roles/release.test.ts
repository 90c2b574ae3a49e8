/**
 * Releases on the nodes' own Debian, Python, Django and uWSGI (a throw-away node booted from the lab's baked
 * image, test/image-node.ts): the build program makes a release of a small Django project (venv with Debian's
 * Django as the base, collectstatic with hashed names, release.json, .ready last); the candidate program says
 * healthy or not; uWSGI with the rendered ini and the WSGI loader serves the release its link names, and after the
 * link moves a chain reload replaces every worker with one on the new release's src AND venv, while a request in
 * flight completes.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { bootImageNode, IMAGE_NODE_TIMEOUT_MS, type ImageNode } from "../test/image-node";
import { buildRelease } from "../ops/release/commands/build";
import { candidateHealth } from "../ops/release/commands/switch";
import { packSource } from "../ops/release/pack";
import { releaseId } from "../ops/release/release";
import { renderUwsgiIni, type UwsgiApp } from "./files/uwsgi";
import { RELEASE_HEADER, RELEASE_PATHS, renderReleasePython, renderWsgiLoader, WSGI_LOADER_MODULE } from "./release";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-release-"));
let node: ImageNode;
before(
  async () => {
    node = await bootImageNode();
  },
  { timeout: IMAGE_NODE_TIMEOUT_MS },
);
after(async () => {
  await node?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * A small Django project whose pages say which release and which venv answered; /slow/ takes 3 s. Version "p"
 * keeps its static manifest in the release (the settings line docs/releases.md shows).
 */
function project(version: string): string {
  const dir = path.join(tmp, `proj-${version}`);
  const w = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  w("proj/__init__.py", "");
  w(
    "proj/settings.py",
    `SECRET_KEY = "test"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.staticfiles"]
ROOT_URLCONF = "proj.urls"
MIDDLEWARE = []
STATIC_URL = "/static/"
STATIC_ROOT = "/srv/share/static"
import os
STATICFILES_DIRS = [os.path.join(os.path.dirname(__file__), "assets")]
STORAGES = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
${
  version === "p"
    ? `from django.core.files.storage import FileSystemStorage
STORAGES["staticfiles"]["OPTIONS"] = {"manifest_storage": FileSystemStorage(location=os.environ["DJANGO_HA_RELEASE_DIR"])}
`
    : ""
}`,
  );
  w("proj/assets/site.css", `body { color: ${{ a: "red", b: "blue" }[version] ?? "green"}; }\n`);
  w(
    "proj/urls.py",
    `import os, time
from django.http import JsonResponse
from django.urls import path
try:
    import relmark
    VENV = relmark.NAME
except ImportError:
    VENV = None
def health(request):
    ok = not os.path.exists("/var/tmp/unhealthy")
    return JsonResponse({"status": "ok" if ok else "fail", "version": ${JSON.stringify(version)}, "venv": VENV, "release": os.environ.get("DJANGO_HA_RELEASE")}, status=200 if ok else 503)
def slow(request):
    time.sleep(3)
    return JsonResponse({"version": ${JSON.stringify(version)}})
urlpatterns = [path("health/", health), path("slow/", slow)]
`,
  );
  w(
    "proj/wsgi.py",
    `import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\nfrom django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n`,
  );
  return dir;
}

const built: Record<string, string> = {};

/** Pack on "the operator's machine", copy into the node, build there as the nodes do. */
function build(version: string): string {
  const packed = packSource({ kind: "dir", path: project(version) });
  try {
    const id = releaseId(new Date(Date.now() + (version === "a" ? 0 : 1000)), packed.sourceHash);
    const hostDir = path.join(tmp, `upload-${version}`);
    fs.mkdirSync(hostDir);
    fs.copyFileSync(packed.tarball, path.join(hostDir, "source.tar.gz"));
    node.copyIn(hostDir, `/var/tmp/upload-${version}`);
    const r = node.run(
      [
        ...buildRelease({
          releases: RELEASE_PATHS.releases,
          id,
          tarball: `/var/tmp/upload-${version}/source.tar.gz`,
          requirements: "",
          pythonIndexUrl: "http://127.0.0.1:9/simple",
          settingsModule: "proj.settings",
          facts: packed.facts,
          buildLock: RELEASE_PATHS.buildLock,
          staticRoot: "/srv/share/static",
          user: "django",
          log: `/var/log/django-ha/release-${id}.log`,
          envFiles: ["/etc/django-ha/none.env"],
        }),
      ],
      { timeoutMs: 300_000 },
    );
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /build=done/);
    // A module only this release's venv holds: the page says which venv answered.
    const site = node.run(["bash", "-c", `ls -d ${RELEASE_PATHS.releases}/${id}/venv/lib/python3*/site-packages`]).out.trim();
    node.write(`${site}/relmark.py`, `NAME = ${JSON.stringify(`venv-${version}`)}\n`);
    built[version] = id;
    return id;
  } finally {
    packed.cleanup();
  }
}

/** The rendered uWSGI ini through django-ha's WSGI loader, 2 workers, for the app `wsgi` on the given sockets. */
const loaderIni = (wsgi: string, sockets: Pick<UwsgiApp, "statsSocket" | "socket" | "chainReloadFile">) =>
  renderUwsgiIni({
    chdir: "/var/lib/django-ha",
    pythonpath: RELEASE_PATHS.libDir,
    module: `${WSGI_LOADER_MODULE}:application`,
    env: { DJANGO_HA_WSGI: wsgi },
    ...sockets,
    processes: 2,
    harakiriSeconds: 60,
    maxRequests: 5000,
    reloadOnRssMb: 300,
  });

/**
 * Start uWSGI (the rendered ini through the loader, 2 workers) on the app module `name` (`code` plus a WSGI
 * callable; it touches /var/tmp/<name>/<pid> when a worker is where the test wants it), wait until both workers
 * touched it, stop uWSGI as `uwsgi --stop` does (SIGINT to the master, which signals the workers), and require
 * every process gone. The mercy is 10 minutes, so a worker that outlives the stop fails the test.
 */
async function stopEndsEveryWorker(name: string, code: string): Promise<void> {
  const src = `${RELEASE_PATHS.releases}/${built.a}/src`;
  node.write(
    `${src}/${name}.py`,
    `${code}\n\ndef application(environ, start_response):\n    start_response("200 OK", [])\n    return [b"ok"]\n`,
  );
  node.run(["ln", "-sfn", `${RELEASE_PATHS.releases}/${built.a}`, RELEASE_PATHS.nodeCurrent]);
  const ini = loaderIni(`${name}:application`, {
    statsSocket: `/run/django-ha-uwsgi/${name}-stats.sock`,
    socket: `/run/django-ha-uwsgi/${name}.sock`,
    chainReloadFile: `/run/django-ha-uwsgi/${name}-chain-reload`,
  });
  node.write(`/etc/django-ha/uwsgi-${name}.ini`, `${ini}worker-reload-mercy = 600\n`);
  assert.equal(node.bash(`rm -rf /var/tmp/${name} && mkdir /var/tmp/${name}`).status, 0);
  const pidfile = `/var/tmp/uwsgi-${name}.pid`;
  const log = `/var/tmp/uwsgi-${name}.log`;
  const start = node.run(["uwsgi", "--ini", `/etc/django-ha/uwsgi-${name}.ini`, "--daemonize", log, "--pidfile", pidfile]);
  assert.equal(start.status, 0, start.out);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const alive = (pids: string[]) => pids.filter((p) => node.bash(`kill -0 ${p}`).status === 0);
  let workers: string[] = [];
  try {
    for (let i = 0; i < 100 && workers.length < 2; i++) {
      await sleep(200);
      workers = node.bash(`ls /var/tmp/${name}`).out.split("\n").filter(Boolean);
    }
    assert.equal(workers.length, 2, `both workers at the mark:\n${node.read(log)}`);
    const master = node.read(pidfile).trim();
    node.run(["uwsgi", "--stop", pidfile]);
    let left = [master, ...workers];
    for (let i = 0; i < 100 && left.length > 0; i++) {
      await sleep(200);
      left = alive([master, ...workers]);
    }
    assert.deepEqual(left, [], `uWSGI processes left after the stop:\n${node.read(log).slice(-3000)}`);
  } finally {
    node.run(["bash", "-c", `kill -9 $(cat ${pidfile}) ${workers.join(" ")} 2>/dev/null; rm -f ${src}/${name}.py`]);
  }
}

describe("a release built, checked and served on the nodes' own Debian", { timeout: 600_000 }, () => {
  before(() => {
    const setup = node.bash(`getent group django >/dev/null || groupadd --system --gid 950 django
id -u django >/dev/null 2>&1 || useradd --system --uid 950 --gid 950 --no-create-home --shell /usr/sbin/nologin django
install -d -o django -g django ${RELEASE_PATHS.releases} /srv/share/static
install -d /run/django-ha-uwsgi /var/lib/django-ha`);
    assert.equal(setup.status, 0, setup.out);
    node.write(RELEASE_PATHS.wsgiLoader, renderWsgiLoader());
    node.write(RELEASE_PATHS.python, renderReleasePython(), 0o755);
  });

  it("builds a release: venv on Debian's Django, hashed static files, release.json, .ready last, src read-only", () => {
    const id = build("a");
    const dir = `${RELEASE_PATHS.releases}/${id}`;
    assert.ok(node.exists(`${dir}/.ready`));
    const meta = JSON.parse(node.read(`${dir}/release.json`));
    assert.equal(meta.id, id);
    assert.match(meta.sourceHash, /^[0-9a-f]{64}$/);
    assert.equal(meta.staticManifest.file, "staticfiles.json");
    const manifest = JSON.parse(node.read(`${dir}/staticfiles.json`));
    assert.match(manifest.paths["site.css"], /^site\.[0-9a-f]{12}\.css$/);
    assert.ok(node.exists(`/srv/share/static/${manifest.paths["site.css"]}`));
    assert.match(node.read(`${dir}/venv/pyvenv.cfg`), /include-system-site-packages = true/);
    assert.notEqual(node.run(["touch", `${dir}/src/proj/x`], { user: "django" }).status, 0, "the app cannot write its release's src");
    // The launcher runs the release's venv in its src with the release named.
    node.run(["ln", "-sfn", dir, RELEASE_PATHS.nodeCurrent]);
    const py = node.run([RELEASE_PATHS.python, "-c", "import os, sys; print(sys.prefix, os.getcwd(), os.environ['DJANGO_HA_RELEASE'])"]);
    assert.equal(py.out.trim(), `${dir}/venv ${dir}/src ${id}`);
  });

  it("a second release keeps the first one's hashed static files (old and new pages never mix)", () => {
    const a = JSON.parse(node.read(`${RELEASE_PATHS.releases}/${built.a}/staticfiles.json`)).paths["site.css"];
    build("b");
    const b = JSON.parse(node.read(`${RELEASE_PATHS.releases}/${built.b}/staticfiles.json`)).paths["site.css"];
    assert.notEqual(a, b);
    assert.ok(node.exists(`/srv/share/static/${a}`) && node.exists(`/srv/share/static/${b}`));
  });

  it("a project that keeps its manifest in the release gets its own build's manifest, not the shared root's older one", () => {
    const shared = node.read("/srv/share/static/staticfiles.json");
    build("p");
    const dir = `${RELEASE_PATHS.releases}/${built.p}`;
    const own = JSON.parse(node.read(`${dir}/staticfiles.json`)).paths["site.css"];
    assert.notEqual(own, JSON.parse(shared).paths["site.css"], "the release names its own site.css");
    assert.ok(node.exists(`/srv/share/static/${own}`));
    assert.equal(node.read("/srv/share/static/staticfiles.json"), shared, "the shared manifest was not touched by the build");
    assert.equal(JSON.parse(node.read(`${dir}/release.json`)).staticManifest.file, "staticfiles.json");
  });

  it("the candidate program says healthy for a good release, unhealthy (with the answer) for a failing one", () => {
    const args = (id: string) => [
      ...candidateHealth({
        releaseDir: `${RELEASE_PATHS.releases}/${id}`,
        id,
        wsgiModule: "proj.wsgi:application",
        settingsModule: "proj.settings",
        healthPath: "/health/",
        host: "www.lab.test",
        timeoutSeconds: 20,
        user: "django",
        libDir: RELEASE_PATHS.libDir,
        header: RELEASE_HEADER,
        loaderModule: WSGI_LOADER_MODULE,
        envFiles: ["/etc/django-ha/none.env"],
      }),
    ];
    const good = node.run(args(built.b), { timeoutMs: 60_000 });
    assert.equal(good.status, 0, good.out);
    assert.match(good.out, /candidate=healthy/);
    node.write("/var/tmp/unhealthy", "");
    try {
      const bad = node.run(args(built.b), { timeoutMs: 60_000 });
      assert.equal(bad.status, 1, bad.out);
      assert.match(bad.out, /candidate=unhealthy\n\/health\/ on release .*: 503/);
    } finally {
      node.run(["rm", "-f", "/var/tmp/unhealthy"]);
    }
  });

  it("uWSGI (rendered ini, lazy-apps) serves the linked release; after the link moves a chain reload brings every worker onto the new src and venv, and a request in flight completes", async () => {
    node.run(["ln", "-sfn", `${RELEASE_PATHS.releases}/${built.a}`, RELEASE_PATHS.nodeCurrent]);
    const ini = loaderIni("proj.wsgi:application", {
      statsSocket: RELEASE_PATHS.uwsgiStats,
      socket: "/run/django-ha-uwsgi/app.sock",
      chainReloadFile: "/run/django-ha-uwsgi/chain-reload",
    });
    node.write("/etc/django-ha/uwsgi.ini", `${ini}http-socket = 127.0.0.1:18090\n`);
    node.write("/run/django-ha-uwsgi/chain-reload", "");
    const start = node.run([
      "uwsgi",
      "--ini",
      "/etc/django-ha/uwsgi.ini",
      "--daemonize",
      "/var/tmp/uwsgi.log",
      "--pidfile",
      "/var/tmp/uwsgi.pid",
    ]);
    assert.equal(start.status, 0, start.out);
    const get = (p: string) => node.run(["curl", "-sS", "-i", "--max-time", "10", `http://127.0.0.1:18090${p}`], { timeoutMs: 20_000 }).out;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const pids = () =>
      node
        .run([
          "python3",
          "-c",
          `import json,socket;s=socket.socket(socket.AF_UNIX);s.connect(${JSON.stringify(RELEASE_PATHS.uwsgiStats)});d=b"".join(iter(lambda:s.recv(65536),b""));print(" ".join(str(w["pid"]) for w in json.loads(d)["workers"]))`,
        ])
        .out.trim();
    try {
      let first = "";
      for (let i = 0; i < 100 && !/200 OK/.test(first); i++) {
        await sleep(200);
        first = get("/health/");
      }
      assert.match(first, new RegExp(`${RELEASE_HEADER}: ${built.a}`, "i"), `${first}\n${node.read("/var/tmp/uwsgi.log")}`);
      assert.match(first, /"version": "a", "venv": "venv-a", "release": "[0-9]+-[0-9a-f]+"/);
      const before = pids().split(" ");
      // A slow request starts on a worker of release a; then the link moves and the chain reload begins.
      node.run([
        "bash",
        "-c",
        "rm -f /var/tmp/slow.out; nohup curl -sS -i --max-time 30 http://127.0.0.1:18090/slow/ >/var/tmp/slow.out 2>&1 </dev/null &",
      ]);
      await sleep(500);
      node.run(["ln", "-sfn", `${RELEASE_PATHS.releases}/${built.b}`, "/var/lib/django-ha/current.new"]);
      node.run(["mv", "-T", "/var/lib/django-ha/current.new", RELEASE_PATHS.nodeCurrent]);
      node.run(["touch", "/run/django-ha-uwsgi/chain-reload"]);
      let slow = "";
      for (let i = 0; i < 60 && !/"version"/.test(slow); i++) {
        await sleep(200);
        slow = node.exists("/var/tmp/slow.out") ? node.read("/var/tmp/slow.out") : "";
      }
      assert.match(slow, /200 OK[\s\S]*"version": "a"/, "the request in flight completed on its release");
      let allB = false;
      for (let i = 0; i < 100 && !allB; i++) {
        await sleep(300);
        const now = pids().split(" ");
        allB =
          now.every((p) => !before.includes(p)) &&
          [1, 2, 3, 4].every(() => new RegExp(`"version": "b", "venv": "venv-b", "release": "${built.b}"`).test(get("/health/")));
      }
      assert.ok(
        allB,
        `every worker on release b (src and venv) after the chain reload:\n${get("/health/")}\n${node.read("/var/tmp/uwsgi.log").slice(-3000)}`,
      );
      assert.match(get("/health/"), new RegExp(`${RELEASE_HEADER}: ${built.b}`, "i"));
    } finally {
      node.run(["uwsgi", "--stop", "/var/tmp/uwsgi.pid"]);
    }
  });

  it("a stop while the workers load the app ends every worker at once: a KeyboardInterrupt swallowed by an import keeps none alive", async () => {
    // An app whose import is slow and catches everything, as careless import-time code does.
    await stopEndsEveryWorker(
      "slowload",
      `import os, pathlib, time
pathlib.Path("/var/tmp/slowload", str(os.getpid())).touch()
try:
    time.sleep(30)
except BaseException:
    pass
`,
    );
  });

  it("a stop of loaded workers does not run their exit handlers (one that hangs keeps no worker alive)", async () => {
    // An app whose exit handler never returns in time: a stop must not wait for it (skip-atexit).
    await stopEndsEveryWorker(
      "exithang",
      `import atexit, os, pathlib, time
atexit.register(time.sleep, 120)
pathlib.Path("/var/tmp/exithang", str(os.getpid())).touch()
`,
    );
  });
});
