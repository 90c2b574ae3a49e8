// The ledger test project where the nodes run it: its own tests inside a throw-away node booted from the lab's
// baked image (Debian's python3-django/-celery and python3-markdown, ledgerfmt from its source), and its config
// as a stack's django-ha:app.
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { LAB_APP_PACKAGES } from "../../lab/config";
import { labPythonIndexUrl } from "../../lab/pyindex";
import { renderPipConf } from "../../roles/files/appenv";
import { bootImageNode, IMAGE_NODE_TIMEOUT_MS, type ImageNode } from "../image-node";
import { LEDGER_CONFIG, ledgerApp } from ".";

describe("test/projects/ledger as django-ha:app", () => {
  it("is a valid app config, different from the sample's in every module", () => {
    const app = ledgerApp();
    assert.deepEqual(app.source, { kind: "dir", path: path.join(__dirname, "ledger") });
    assert.equal(app.celeryApp, "ledger_site.worker:queue_app");
    assert.deepEqual(app.secretKeys, ["LEDGER_SIGNING_KEY"]);
  });

  it("asks only for Debian packages the lab bakes (lab nodes reach no mirror)", () => {
    for (const p of LEDGER_CONFIG.debianPackages) assert.ok(LAB_APP_PACKAGES.includes(p), `${p} is not in lab/config.ts LAB_APP_PACKAGES`);
  });
});

describe("test/projects/ledger on the nodes' Python and Django", { timeout: IMAGE_NODE_TIMEOUT_MS + 600_000 }, () => {
  let node: ImageNode;
  before(async () => {
    node = await bootImageNode();
    node.copyIn(path.join(__dirname, "ledger"), "/srv/ledger");
    node.copyIn(path.join(__dirname, "wheels", "ledgerfmt"), "/srv/ledgerfmt");
  }, { timeout: IMAGE_NODE_TIMEOUT_MS });
  after(() => node?.stop());

  const python = (args: string[], env: Record<string, string> = {}) =>
    node.run(["bash", "-c", 'cd /srv/ledger && exec python3 "$@"', "x", ...args], { env: { PYTHONDONTWRITEBYTECODE: "1", PYTHONPATH: "/srv/ledgerfmt", LEDGER_TEST_SQLITE: "1", ...env }, timeoutMs: 5 * 60_000 });

  it("its tests pass (manage.py test)", () => {
    const { status, out } = python(["manage.py", "test", "--noinput", "-v", "2"]);
    assert.equal(status, 0, out);
    assert.match(out, /^Ran 4 tests in/m, out);
  });

  it("with the cluster's environment: settings, WSGI callable and Celery app load, collectstatic writes hashed names", () => {
    const env = {
      LEDGER_TEST_SQLITE: "0",
      DJANGO_SECRET_KEY: "x".repeat(60),
      DJANGO_ALLOWED_HOSTS: "www.lab.test,10.231.0.21",
      DATABASE_URL: "postgresql://app:p%40ss@10.231.0.11:5432,10.231.0.12:5432/app?target_session_attrs=read-write&connect_timeout=3",
      MEDIA_ROOT: "/var/tmp/ledger-media",
      STATIC_ROOT: "/var/tmp/ledger-static",
      CELERY_BROKER_URL: "redis://:pw@primary.lab.internal:6379/0",
      LEDGER_SIGNING_KEY: "k",
    };
    const load = python(["-c", "import ledger_site.wsgi as w, ledger_site.worker as c; from django.conf import settings as s; print(callable(w.app), c.queue_app.main, s.DATABASES['default']['HOST'], s.DATABASES['default']['PASSWORD'] == 'p@ss', s.STORAGES['staticfiles']['BACKEND'].rsplit('.', 1)[1])"], env);
    assert.equal(load.status, 0, load.out);
    assert.equal(load.out.trim().split("\n").at(-1), "True ledger 10.231.0.11,10.231.0.12 True ManifestStaticFilesStorage");
    // As in a release build: the manifest goes into the release (DJANGO_HA_RELEASE_DIR), the hashed files to the share.
    const collect = python(["manage.py", "collectstatic", "--noinput"], { ...env, DJANGO_HA_RELEASE_DIR: "/var/tmp/ledger-release" });
    assert.equal(collect.status, 0, collect.out);
    const files = node.run(["bash", "-c", "ls /var/tmp/ledger-static/entries /var/tmp/ledger-release/staticfiles.json"]);
    assert.equal(files.status, 0, files.out);
    assert.match(files.out, /^ledger\.[0-9a-f]{12}\.css$/m, files.out);
    assert.equal(node.run(["test", "-e", "/var/tmp/ledger-static/staticfiles.json"]).status, 1, "no manifest in the shared static root");
  });

  it("pip in a release venv reads the nodes' /etc/pip.conf: the lab's plain-http index is trusted", () => {
    const conf = renderPipConf(labPythonIndexUrl());
    const r = node.run(["bash", "-c", 'cat > /etc/pip.conf && python3 -m venv --system-site-packages /var/tmp/v && /var/tmp/v/bin/pip config list && rm -rf /var/tmp/v /etc/pip.conf'], { input: conf });
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /^global\.trusted-host='10\.231\.0\.1:3141'$/m, r.out);
  });

  it("its migrations are committed (makemigrations --check)", () => {
    const { status, out } = python(["manage.py", "makemigrations", "--check", "--dry-run"]);
    assert.equal(status, 0, out);
  });
});
