// Runs the sample Django project's own tests (SQLite, a temp share, eager Celery, a real ffmpeg
// transcode) where the nodes run it: inside a throw-away node booted from the lab's baked image
// (test/image-node.ts), so Debian's python3, python3-django/-celery/-psycopg2/-redis and ffmpeg are the
// nodes' versions, not this host's. `npm run test:unit` covers app/ too.
import * as path from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { bootImageNode, IMAGE_NODE_TIMEOUT_MS, type ImageNode } from "../test/image-node";

const APP = "/srv/django-ha-app-test";
let node: ImageNode;

before(async () => {
  node = await bootImageNode();
  node.copyIn(__dirname, APP);
}, { timeout: IMAGE_NODE_TIMEOUT_MS });
after(() => node?.stop());

const python = (args: string[], env: Record<string, string> = {}) =>
  node.run(["bash", "-c", 'cd "$0" && exec python3 "$@"', APP, ...args], { env: { PYTHONDONTWRITEBYTECODE: "1", ...env }, timeoutMs: 10 * 60_000 });

test("every Python file in app/ compiles (the nodes' python3)", () => {
  const { status, out } = python(["-m", "compileall", "-q", "-f", "-x", "__pycache__", APP], { PYTHONDONTWRITEBYTECODE: "", PYTHONPYCACHEPREFIX: "/var/tmp/django-ha-pycache" });
  assert.equal(status, 0, out);
});

test("Django test suite passes (python3 app/manage.py test, the nodes' Django)", { timeout: 10 * 60_000 }, () => {
  const { status, out } = python([path.posix.join(APP, "manage.py"), "test", "--noinput", "-v", "2"], { DJANGO_TEST_SQLITE: "1", PYTHONWARNINGS: "default" });
  assert.equal(status, 0, `manage.py test failed:\n${out}`);
  assert.match(out, /^Ran (\d+) tests? in/m, out);
  const ran = Number(/^Ran (\d+) tests?/m.exec(out)?.[1]);
  assert.ok(ran >= 30, `expected the whole suite (>= 30 tests), ran ${ran}:\n${out}`);
  // Deprecations are the next release's breakage: the suite must run clean on the nodes' Django.
  assert.doesNotMatch(out, /RemovedInDjango\d+Warning/, out);
});
