import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { assertRefused } from "../test/config-errors";
import { digitaloceanConfig, hostsConfig } from "../test/configs";
import { runProgram } from "../components/plan/offlineEngine";
import {
  appSecretIssues,
  appSummary,
  CLUSTER_ENV_KEYS,
  ConfigError,
  DEFAULT_PYTHON_INDEX_URL,
  isGitRef,
  parseAppConfig,
  parseClusterSpec,
  pipIndexOptions,
  PROCESS_ENV_KEYS,
  SAMPLE_APP,
  specFromConfig,
} from ".";

// A project of our own (a manage.py at its top, a requirements file) and a directory without manage.py.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "django-ha-app-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const shop = path.join(tmp, "shop");
fs.mkdirSync(path.join(shop, "requirements"), { recursive: true });
fs.writeFileSync(path.join(shop, "manage.py"), "");
fs.writeFileSync(path.join(shop, "requirements", "prod.txt"), "shoplib==1.0\n");
const noManage = path.join(tmp, "no-manage");
fs.mkdirSync(noManage);
const aFile = path.join(tmp, "a-file");
fs.writeFileSync(aFile, "");

const own = { path: shop, wsgiModule: "shop.wsgi:application", settingsModule: "shop.settings" };
const app = (a: Record<string, unknown>) => ({ app: a });

function refusedAlone(raw: unknown): ConfigError {
  try {
    parseAppConfig(raw, "stack test");
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail(`accepted ${JSON.stringify(raw)}`);
}

describe("django-ha:app: defaults and valid projects", () => {
  it("no django-ha:app is the sample app in ./app with its modules, Celery app and health view", () => {
    const spec = parseClusterSpec(digitaloceanConfig());
    assert.deepEqual(spec.app, SAMPLE_APP);
    assert.deepEqual(spec.app.source, { kind: "dir", path: path.resolve(__dirname, "..", "app") });
    assert.equal(spec.app.healthPath, "/health/");
    assert.equal(spec.app.pythonIndexUrl, DEFAULT_PYTHON_INDEX_URL);
  });

  it("setting only the index keeps the sample app and its modules (the lab stacks do this)", () => {
    const a = parseAppConfig({ pythonIndexUrl: "http://10.231.0.1:3141/simple/" }, "stack lab");
    assert.deepEqual(a, { ...SAMPLE_APP, pythonIndexUrl: "http://10.231.0.1:3141/simple/" });
  });

  it("a project of its own, from a directory, with every key", () => {
    const a = parseAppConfig(
      {
        ...own,
        requirements: "requirements/prod.txt",
        celeryApp: "shop.celery:app",
        healthPath: "/-/ready",
        debianPackages: ["libmagic1", "python3-pil", "g++"],
        pythonIndexUrl: "https://pypi.internal.example/simple/",
        env: { SHOP_CURRENCY: "EUR", FEATURE_X: "" },
        secretKeys: ["STRIPE_API_KEY"],
      },
      "test",
    );
    assert.deepEqual(a, {
      source: { kind: "dir", path: shop },
      wsgiModule: "shop.wsgi:application",
      settingsModule: "shop.settings",
      requirements: "requirements/prod.txt",
      celeryApp: "shop.celery:app",
      celeryQueues: ["celery"],
      healthPath: "/-/ready",
      debianPackages: ["libmagic1", "python3-pil", "g++"],
      pythonIndexUrl: "https://pypi.internal.example/simple/",
      env: { SHOP_CURRENCY: "EUR", FEATURE_X: "" },
      secretKeys: ["STRIPE_API_KEY"],
    });
  });

  it("a project without Celery has no celeryApp (the worker runs no app queue)", () => {
    assert.equal(parseAppConfig(own, "test").celeryApp, undefined);
  });

  it("celeryQueues: Celery's default queue for your project, the sample's video queue, or the queues you list", () => {
    assert.deepEqual(parseAppConfig({ ...own, celeryApp: "shop" }, "test").celeryQueues, ["celery"]);
    assert.deepEqual(SAMPLE_APP.celeryQueues, ["video"]);
    assert.deepEqual(parseAppConfig({ path: "./app" }, "test").celeryQueues, ["video"]);
    assert.deepEqual(parseAppConfig({ ...own, celeryApp: "shop", celeryQueues: ["celery", "mail.high", "b:1"] }, "test").celeryQueues, [
      "celery",
      "mail.high",
      "b:1",
    ]);
  });

  it("a relative path is resolved against the given base directory (the repository's top by default)", () => {
    assert.deepEqual(parseAppConfig({ ...own, path: "./shop" }, "test", { baseDir: tmp }).source, { kind: "dir", path: shop });
    assert.deepEqual(parseAppConfig({ path: "./app" }, "test"), SAMPLE_APP);
  });

  for (const url of [
    "https://github.com/you/shop.git",
    "git@github.com:you/shop.git",
    "ssh://git@git.example.com:2222/you/shop.git",
    "file:///srv/git/shop.git",
  ]) {
    it(`a git source: ${url}`, () => {
      const { path: _, ...rest } = own;
      assert.deepEqual(parseAppConfig({ ...rest, git: url, ref: "v1.4.2" }, "test").source, { kind: "git", url, ref: "v1.4.2" });
    });
  }
});

interface Case {
  name: string;
  app: Record<string, unknown>;
  key: string;
  value: string;
  fix: RegExp;
}

const { path: _p, ...ownGit } = own;
const cases: Case[] = [
  { name: "not a map", app: { app: "./shop" } as never, key: "django-ha:app", value: '"./shop"', fix: /must be a map/ },
  { name: "an unknown key", app: { ...own, wsgi: "x" }, key: "django-ha:app.wsgi", value: '"x"', fix: /not a known key of django-ha:app/ },
  {
    name: "a directory that does not exist",
    app: { ...own, path: path.join(tmp, "nope") },
    key: "django-ha:app.path",
    value: JSON.stringify(path.join(tmp, "nope")),
    fix: /does not exist/,
  },
  {
    name: "a directory without manage.py",
    app: { ...own, path: noManage },
    key: "django-ha:app.path",
    value: JSON.stringify(noManage),
    fix: /has no manage.py at its top/,
  },
  {
    name: "a file, not a directory",
    app: { ...own, path: aFile },
    key: "django-ha:app.path",
    value: JSON.stringify(aFile),
    fix: /is not a directory/,
  },
  { name: "an empty path", app: { ...own, path: "" }, key: "django-ha:app.path", value: '""', fix: /directory of your Django project/ },
  { name: "path as a number", app: { ...own, path: 7 }, key: "django-ha:app.path", value: "7", fix: /must be text/ },
  {
    name: "both path and git",
    app: { ...own, git: "https://github.com/you/shop.git", ref: "main" },
    key: "django-ha:app.git",
    value: '"https://github.com/you/shop.git"',
    fix: /one place: keep path .* or git/,
  },
  {
    name: "git without ref",
    app: { ...ownGit, git: "https://github.com/you/shop.git" },
    key: "django-ha:app.ref",
    value: "(not set)",
    fix: /required with django-ha:app.git/,
  },
  { name: "ref without git", app: { ...own, ref: "main" }, key: "django-ha:app.ref", value: '"main"', fix: /only for a git source/ },
  {
    name: "a ref with '..'",
    app: { ...ownGit, git: "https://github.com/you/shop.git", ref: "main..dev" },
    key: "django-ha:app.ref",
    value: '"main..dev"',
    fix: /not a git ref name/,
  },
  {
    name: "a ref with a space",
    app: { ...ownGit, git: "https://github.com/you/shop.git", ref: "my branch" },
    key: "django-ha:app.ref",
    value: '"my branch"',
    fix: /not a git ref name/,
  },
  {
    name: "git over plain http",
    app: { ...ownGit, git: "http://github.com/you/shop.git", ref: "main" },
    key: "django-ha:app.git",
    value: '"http://github.com/you/shop.git"',
    fix: /no transport security/,
  },
  {
    name: "git with a token in the URL",
    app: { ...ownGit, git: "https://x:ghp_secret@github.com/you/shop.git", ref: "main" },
    key: "django-ha:app.git",
    value: '"https://x:ghp_secret@github.com/you/shop.git"',
    fix: /password or token in plain text/,
  },
  { name: "git not a URL", app: { ...ownGit, git: "shop", ref: "main" }, key: "django-ha:app.git", value: '"shop"', fix: /not a git URL/ },
  {
    name: "own project without wsgiModule",
    app: { path: shop, settingsModule: "shop.settings" },
    key: "django-ha:app.wsgiModule",
    value: "(not set)",
    fix: /required for your own project/,
  },
  {
    name: "own project without settingsModule",
    app: { path: shop, wsgiModule: "shop.wsgi:application" },
    key: "django-ha:app.settingsModule",
    value: "(not set)",
    fix: /required for your own project/,
  },
  {
    name: "wsgiModule without a callable",
    app: { ...own, wsgiModule: "shop.wsgi" },
    key: "django-ha:app.wsgiModule",
    value: '"shop.wsgi"',
    fix: /<dotted.module>:<callable>/,
  },
  {
    name: "wsgiModule as a file path",
    app: { ...own, wsgiModule: "shop/wsgi.py:application" },
    key: "django-ha:app.wsgiModule",
    value: '"shop/wsgi.py:application"',
    fix: /<dotted.module>:<callable>/,
  },
  {
    name: "settingsModule with a dash",
    app: { ...own, settingsModule: "my-shop.settings" },
    key: "django-ha:app.settingsModule",
    value: '"my-shop.settings"',
    fix: /dotted Python module path/,
  },
  {
    name: "settingsModule with a keyword",
    app: { ...own, settingsModule: "shop.class.settings" },
    key: "django-ha:app.settingsModule",
    value: '"shop.class.settings"',
    fix: /dotted Python module path/,
  },
  {
    name: "settingsModule ending in .py",
    app: { ...own, settingsModule: "shop/settings.py" },
    key: "django-ha:app.settingsModule",
    value: '"shop/settings.py"',
    fix: /dotted Python module path/,
  },
  {
    name: "celeryApp with two colons",
    app: { ...own, celeryApp: "shop:celery:app" },
    key: "django-ha:app.celeryApp",
    value: '"shop:celery:app"',
    fix: /celery -A/,
  },
  {
    name: "celeryQueues not a list",
    app: { ...own, celeryApp: "shop", celeryQueues: "celery" },
    key: "django-ha:app.celeryQueues",
    value: '"celery"',
    fix: /non-empty list of the Celery queues/,
  },
  {
    name: "celeryQueues empty",
    app: { ...own, celeryApp: "shop", celeryQueues: [] },
    key: "django-ha:app.celeryQueues",
    value: "[]",
    fix: /non-empty list/,
  },
  {
    name: "celeryQueues with a comma inside a name",
    app: { ...own, celeryApp: "shop", celeryQueues: ["celery,mail"] },
    key: "django-ha:app.celeryQueues[0]",
    value: '"celery,mail"',
    fix: /letters, digits and \. _ : -/,
  },
  {
    name: "celeryQueues with a space or a shell character",
    app: { ...own, celeryApp: "shop", celeryQueues: ["celery", "a b", "$(x)"] },
    key: "django-ha:app.celeryQueues[1]",
    value: '"a b"',
    fix: /not a queue name/,
  },
  {
    name: "celeryQueues listing a queue twice",
    app: { ...own, celeryApp: "shop", celeryQueues: ["celery", "celery"] },
    key: "django-ha:app.celeryQueues[1]",
    value: '"celery"',
    fix: /listed twice/,
  },
  {
    name: "celeryQueues without a Celery app",
    app: { ...own, celeryQueues: ["celery"] },
    key: "django-ha:app.celeryQueues",
    value: '["celery"]',
    fix: /set celeryApp, or remove celeryQueues/,
  },
  {
    name: "requirements outside the project",
    app: { ...own, requirements: "../requirements.txt" },
    key: "django-ha:app.requirements",
    value: '"../requirements.txt"',
    fix: /stay inside the project/,
  },
  {
    name: "requirements as an absolute path",
    app: { ...own, requirements: "/etc/requirements.txt" },
    key: "django-ha:app.requirements",
    value: '"/etc/requirements.txt"',
    fix: /relative to the project's top directory/,
  },
  {
    name: "requirements file missing",
    app: { ...own, requirements: "requirements.txt" },
    key: "django-ha:app.requirements",
    value: '"requirements.txt"',
    fix: /does not exist in/,
  },
  {
    name: "healthPath without a slash",
    app: { ...own, healthPath: "health/" },
    key: "django-ha:app.healthPath",
    value: '"health/"',
    fix: /starting with \//,
  },
  {
    name: "healthPath with a query",
    app: { ...own, healthPath: "/health/?full=1" },
    key: "django-ha:app.healthPath",
    value: '"/health/?full=1"',
    fix: /without spaces, query or fragment/,
  },
  {
    name: "healthPath as a full URL",
    app: { ...own, healthPath: "https://shop/health/" },
    key: "django-ha:app.healthPath",
    value: '"https://shop/health/"',
    fix: /URL path starting with \//,
  },
  {
    name: "an ftp index",
    app: { ...own, pythonIndexUrl: "ftp://pypi.example/simple" },
    key: "django-ha:app.pythonIndexUrl",
    value: '"ftp://pypi.example/simple"',
    fix: /must be an http:\/\/ or https:\/\/ URL/,
  },
  {
    name: "a file: index",
    app: { ...own, pythonIndexUrl: "file:///srv/wheels" },
    key: "django-ha:app.pythonIndexUrl",
    value: '"file:///srv/wheels"',
    fix: /must be an http:\/\/ or https:\/\/ URL/,
  },
  {
    name: "an index that is not a URL",
    app: { ...own, pythonIndexUrl: "pypi.org/simple" },
    key: "django-ha:app.pythonIndexUrl",
    value: '"pypi.org/simple"',
    fix: /is not a URL/,
  },
  {
    name: "an index with credentials",
    app: { ...own, pythonIndexUrl: "https://u:p@pypi.internal/simple" },
    key: "django-ha:app.pythonIndexUrl",
    value: '"https://u:p@pypi.internal/simple"',
    fix: /credentials in plain text/,
  },
  {
    name: "an upper-case Debian package",
    app: { ...own, debianPackages: ["LibMagic1"] },
    key: "django-ha:app.debianPackages[0]",
    value: '"LibMagic1"',
    fix: /not a Debian package name/,
  },
  {
    name: "a one-letter Debian package",
    app: { ...own, debianPackages: ["x"] },
    key: "django-ha:app.debianPackages[0]",
    value: '"x"',
    fix: /at least two characters/,
  },
  {
    name: "a Debian package with a space",
    app: { ...own, debianPackages: ["libmagic1 curl"] },
    key: "django-ha:app.debianPackages[0]",
    value: '"libmagic1 curl"',
    fix: /not a Debian package name/,
  },
  {
    name: "a Debian package starting with '-'",
    app: { ...own, debianPackages: ["-oAPT::x"] },
    key: "django-ha:app.debianPackages[0]",
    value: '"-oAPT::x"',
    fix: /not a Debian package name/,
  },
  {
    name: "a pinned Debian package",
    app: { ...own, debianPackages: ["libmagic1=1:5.45-3"] },
    key: "django-ha:app.debianPackages[0]",
    value: '"libmagic1=1:5.45-3"',
    fix: /package name only \(libmagic1\)/,
  },
  {
    name: "a Debian package listed twice",
    app: { ...own, debianPackages: ["libmagic1", "libmagic1"] },
    key: "django-ha:app.debianPackages[1]",
    value: '"libmagic1"',
    fix: /listed twice/,
  },
  {
    name: "debianPackages not a list",
    app: { ...own, debianPackages: "libmagic1" },
    key: "django-ha:app.debianPackages",
    value: '"libmagic1"',
    fix: /must be a list of Debian package names/,
  },
  {
    name: "env DJANGO_SECRET_KEY",
    app: { ...own, env: { DJANGO_SECRET_KEY: "x" } },
    key: "django-ha:app.env.DJANGO_SECRET_KEY",
    value: '"x"',
    fix: /set by the cluster/,
  },
  {
    name: "env DATABASE_URL",
    app: { ...own, env: { DATABASE_URL: "postgres://x" } },
    key: "django-ha:app.env.DATABASE_URL",
    value: '"postgres://x"',
    fix: /set by the cluster/,
  },
  {
    name: "env PATH",
    app: { ...own, env: { PATH: "/opt/bin" } },
    key: "django-ha:app.env.PATH",
    value: '"/opt/bin"',
    fix: /the app's processes depend on/,
  },
  {
    name: "env UWSGI_PROCESSES",
    app: { ...own, env: { UWSGI_PROCESSES: "8" } },
    key: "django-ha:app.env.UWSGI_PROCESSES",
    value: '"8"',
    fix: /read by uWSGI as one of its own options/,
  },
  {
    name: "env DJANGO_HA_ANYTHING",
    app: { ...own, env: { DJANGO_HA_MODE: "x" } },
    key: "django-ha:app.env.DJANGO_HA_MODE",
    value: '"x"',
    fix: /cluster's own namespace/,
  },
  {
    name: "env lower-case name",
    app: { ...own, env: { currency: "EUR" } },
    key: "django-ha:app.env.currency",
    value: '"EUR"',
    fix: /not an environment variable name/,
  },
  {
    name: "env name starting with a digit",
    app: { ...own, env: { "1X": "y" } },
    key: "django-ha:app.env.1X",
    value: '"y"',
    fix: /not an environment variable name/,
  },
  {
    name: "env a number",
    app: { ...own, env: { SHOP_WORKERS: 4 } },
    key: "django-ha:app.env.SHOP_WORKERS",
    value: "4",
    fix: /must be text: write "4"/,
  },
  {
    name: "env a newline",
    app: { ...own, env: { SHOP_MOTD: "a\nb" } },
    key: "django-ha:app.env.SHOP_MOTD",
    value: '"a\\nb"',
    fix: /a line break/,
  },
  {
    name: "env a single quote",
    app: { ...own, env: { SHOP_MOTD: "it's" } },
    key: "django-ha:app.env.SHOP_MOTD",
    value: '"it\'s"',
    fix: /single quote or backslash/,
  },
  {
    name: "env not a map",
    app: { ...own, env: ["SHOP=1"] },
    key: "django-ha:app.env",
    value: '["SHOP=1"]',
    fix: /must be a map of variable names/,
  },
  {
    name: "secret DB_PASSWORD",
    app: { ...own, secretKeys: ["DB_PASSWORD"] },
    key: "django-ha:app.secretKeys[0]",
    value: '"DB_PASSWORD"',
    fix: /set by the cluster/,
  },
  {
    name: "secret listed twice",
    app: { ...own, secretKeys: ["STRIPE_KEY", "STRIPE_KEY"] },
    key: "django-ha:app.secretKeys[1]",
    value: '"STRIPE_KEY"',
    fix: /listed twice \(also django-ha:app.secretKeys\[0\]\)/,
  },
  {
    name: "secret also in env",
    app: { ...own, env: { STRIPE_KEY: "x" }, secretKeys: ["STRIPE_KEY"] },
    key: "django-ha:app.secretKeys[0]",
    value: '"STRIPE_KEY"',
    fix: /either plain \(env\) or secret/,
  },
  {
    name: "secret lower-case",
    app: { ...own, secretKeys: ["stripe"] },
    key: "django-ha:app.secretKeys[0]",
    value: '"stripe"',
    fix: /environment variable name/,
  },
  {
    name: "secretKeys not a list",
    app: { ...own, secretKeys: { STRIPE: "x" } },
    key: "django-ha:app.secretKeys",
    value: '{"STRIPE":"x"}',
    fix: /must be a list of variable names/,
  },
];

describe("django-ha:app: bad values are refused naming key, value and fix", () => {
  for (const c of cases) {
    it(c.name, () => {
      const raw = "app" in c.app && Object.keys(c.app).length === 1 ? c.app.app : c.app;
      assertRefused(digitaloceanConfig(2, app(raw as Record<string, unknown>)), c);
      // parseAppConfig alone refuses it the same way.
      const e = refusedAlone(raw);
      const issue = e.issues.find((i) => i.key === c.key);
      assert.ok(issue, e.message);
      assert.equal(issue.value, c.value);
      assert.match(e.message, / in stack test/);
    });
  }

  it("every problem at once, with the other keys' problems", () => {
    try {
      parseClusterSpec(
        hostsConfig(2, { ttl: "thirty", ...app({ path: noManage, wsgiModule: "x", env: { DATABASE_URL: "x" }, debianPackages: ["A"] }) }),
      );
      assert.fail("accepted");
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.issues.map((i) => i.key).sort(), [
        "django-ha:app.debianPackages[0]",
        "django-ha:app.env.DATABASE_URL",
        "django-ha:app.path",
        "django-ha:app.settingsModule",
        "django-ha:app.wsgiModule",
        "django-ha:ttl",
      ]);
    }
  });

  it("an invalid app registers no resource in the program", async () => {
    const run = await runProgram(digitaloceanConfig(2, app({ ...own, env: { DJANGO_SECRET_KEY: "x" } })));
    assert.ok(run.error instanceof ConfigError, String(run.error));
    assert.equal(run.resources.length, 0);
  });
});

describe("django-ha:app: properties of the checks", () => {
  const envName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,20}$/);

  it("every cluster-owned or process variable is refused in env and in secretKeys; every other valid name is accepted", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom(...CLUSTER_ENV_KEYS, ...PROCESS_ENV_KEYS),
          envName.map((k) => `DJANGO_HA_${k}`),
          envName.map((k) => `UWSGI_${k}`),
          envName,
        ),
        (name) => {
          const owned =
            [...CLUSTER_ENV_KEYS, ...PROCESS_ENV_KEYS].includes(name as never) ||
            name.startsWith("DJANGO_HA_") ||
            name.startsWith("UWSGI_");
          for (const raw of [
            { ...own, env: { [name]: "v" } },
            { ...own, secretKeys: [name] },
          ]) {
            let refused = false;
            try {
              parseAppConfig(raw, "t");
            } catch (e) {
              assert.ok(e instanceof ConfigError);
              refused = true;
            }
            assert.equal(refused, owned, name);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a Debian package name is accepted exactly when it follows Debian Policy 5.6.1", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (name) => {
        const policy = name.length >= 2 && /^[a-z0-9]/.test(name) && [...name].every((ch) => /[a-z0-9+.-]/.test(ch));
        let accepted = true;
        try {
          parseAppConfig({ ...own, debianPackages: [name] }, "t");
        } catch {
          accepted = false;
        }
        assert.equal(accepted, policy, JSON.stringify(name));
      }),
      { numRuns: 400 },
    );
  });

  it("any settings module with a character outside Python identifiers is refused", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 10 }).filter((s) => /[^A-Za-z0-9_.]/.test(s)),
        (bad) => {
          assert.throws(() => parseAppConfig({ ...own, settingsModule: `shop.${bad}` }, "t"), ConfigError);
        },
      ),
    );
  });

  it("no URL whose scheme is not http or https is accepted as the index", () => {
    fc.assert(
      fc.property(fc.webUrl(), fc.stringMatching(/^[a-z][a-z0-9+]{0,8}$/), (url, scheme) => {
        const other = url.replace(/^https?:/, `${scheme}:`);
        const accepted = (() => {
          try {
            parseAppConfig({ ...own, pythonIndexUrl: other }, "t");
            return true;
          } catch {
            return false;
          }
        })();
        if (accepted) assert.ok(/^https?:/.test(other), other);
      }),
    );
  });

  it("the plan's one-line summary names the source, the modules, the index and the names of env and secrets, never a value", () => {
    assert.equal(
      appSummary(parseAppConfig({ ...own, celeryApp: "shop", env: { SHOP_CURRENCY: "EUR" }, secretKeys: ["STRIPE_KEY"] }, "t"), tmp),
      "app shop  wsgi shop.wsgi:application  settings shop.settings  celery shop (queues celery)  health /health/  requirements none from https://pypi.org/simple  debian packages none  env SHOP_CURRENCY  secrets STRIPE_KEY",
    );
    assert.match(
      appSummary(SAMPLE_APP),
      /^app app \(the sample\) {2}wsgi djangoha_app\.wsgi:application .* {2}celery djangoha_app \(queues video\) {2}/,
    );
  });

  it("pip trusts a plain-http index explicitly (it ignores one otherwise), never an https one", () => {
    assert.deepEqual(pipIndexOptions("http://10.231.0.1:3141/simple/"), [
      "--index-url",
      "http://10.231.0.1:3141/simple/",
      "--trusted-host",
      "10.231.0.1:3141",
    ]);
    assert.deepEqual(pipIndexOptions(DEFAULT_PYTHON_INDEX_URL), ["--index-url", DEFAULT_PYTHON_INDEX_URL]);
  });

  it("git refs: branch and tag names pass, names git refuses do not", () => {
    for (const ok of ["main", "v1.4.2", "release/2026-12", "3f2c1a9", "feature/x_y-z"]) assert.ok(isGitRef(ok), ok);
    for (const bad of [
      "",
      "@",
      "-rf",
      "/main",
      "main/",
      "main.",
      "x.lock",
      "a..b",
      "a b",
      "a~1",
      "a^",
      "a:b",
      "a?",
      "a*",
      "a[",
      "a\\b",
      "a@{1}",
      "a//b",
      ".hidden",
      "x/.y",
    ])
      assert.ok(!isGitRef(bad), bad);
  });
});

describe("django-ha:appSecrets", () => {
  const all = (appCfg: unknown, secrets?: unknown) => {
    const flat: Record<string, unknown> = Object.fromEntries(
      Object.entries(digitaloceanConfig()).map(([k, v]) => [`django-ha:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
    );
    flat["django-ha:app"] = JSON.stringify(appCfg);
    if (secrets !== undefined) flat["django-ha:appSecrets"] = JSON.stringify(secrets);
    // The health agent's own credential, which a DigitalOcean program requires too (model/health.ts).
    flat["django-ha:healthDnsToken"] = "dop_v1_health";
    return flat;
  };
  const program = (flat: Record<string, unknown>, secret = true) =>
    specFromConfig(flat, {
      source: "stack t",
      stack: "t",
      isSecret: (k) => k === "django-ha:healthDnsToken" || (secret && k === "django-ha:appSecrets"),
      program: true,
    });

  it("the program takes secrets whose keys match app.secretKeys", () => {
    const spec = program(all({ ...own, secretKeys: ["STRIPE_KEY"] }, { STRIPE_KEY: "sk_live_x" }));
    assert.deepEqual(spec.app.secretKeys, ["STRIPE_KEY"]);
  });

  it("a missing secret, an extra one and a bad value are each refused without showing a value", () => {
    try {
      program(all({ ...own, secretKeys: ["STRIPE_KEY", "MAIL_PASSWORD"] }, { STRIPE_KEY: "it's", OTHER: "sk_other" }));
      assert.fail("accepted");
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.ok(!/sk_other|it's/.test(e.message), e.message);
      assert.match(e.message, /django-ha:appSecrets = \(a secret, not shown\): has no value for MAIL_PASSWORD/);
      assert.match(e.message, /holds OTHER, which django-ha:app.secretKeys does not name/);
      assert.match(e.message, /django-ha:appSecrets.STRIPE_KEY = \(a secret, not shown\): contains a single quote/);
    }
  });

  it("secretKeys without the secret says how to set it", () => {
    assert.throws(
      () => program(all({ ...own, secretKeys: ["STRIPE_KEY"] })),
      /django-ha:appSecrets = \(not set\): is required: .*pulumi config set --secret --stack t django-ha:appSecrets '\{"STRIPE_KEY": "…"\}'/,
    );
  });

  it("appSecrets in plain text is refused and not shown", () => {
    assert.throws(
      () => program(all({ ...own, secretKeys: ["STRIPE_KEY"] }, { STRIPE_KEY: "sk_live_plain" }), false),
      (e: unknown) =>
        e instanceof ConfigError &&
        /django-ha:appSecrets = \(a value in plain text, not shown\)/.test(e.message) &&
        !e.message.includes("sk_live_plain"),
    );
  });

  it("no secretKeys and no secret: nothing to check", () => {
    assert.deepEqual(appSecretIssues(undefined, [], "t"), []);
  });
});
