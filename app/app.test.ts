// Runs the sample Django project's own tests (SQLite, a temp share, eager Celery, a real ffmpeg
// transcode) under Debian's python3 with python3-django/-celery/-psycopg2/-redis, so `npm run test:unit`
// covers app/ too. DJANGO_HA_PYTHON overrides the interpreter (it must see Debian's dist-packages).
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";

const appDir = __dirname;
const python = process.env.DJANGO_HA_PYTHON ?? "/usr/bin/python3";

function run(args: string[], extraEnv: Record<string, string> = {}): { status: number | null; output: string } {
  const result = spawnSync(python, args, {
    cwd: appDir,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...extraEnv },
    encoding: "utf8",
    timeout: 10 * 60 * 1000,
  });
  if (result.error) throw new Error(`could not run ${python} ${args.join(" ")}: ${result.error.message}`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

test("every Python file in app/ compiles", () => {
  const { status, output } = run(["-m", "compileall", "-q", "-f", "-x", "__pycache__", appDir], {
    PYTHONDONTWRITEBYTECODE: "",
    PYTHONPYCACHEPREFIX: path.join(os.tmpdir(), "django-ha-pycache"),
  });
  assert.equal(status, 0, output);
});

test("Django test suite passes (python3 app/manage.py test)", () => {
  const { status, output } = run([path.join(appDir, "manage.py"), "test", "--noinput", "-v", "2"], {
    DJANGO_TEST_SQLITE: "1",
  });
  assert.equal(status, 0, `manage.py test failed:\n${output}`);
  assert.match(output, /^Ran (\d+) tests? in/m, output);
  const ran = Number(/^Ran (\d+) tests?/m.exec(output)?.[1]);
  assert.ok(ran >= 30, `expected the whole suite (>= 30 tests), ran ${ran}:\n${output}`);
});
