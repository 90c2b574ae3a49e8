/**
 * The Django project a cluster runs (django-ha:app): where its source is, its modules, requirements, Celery
 * app, health URL, extra Debian packages, environment and the names of its secrets. Validated like every
 * other key: every problem names the key, the value and the fix, and all of them are reported at once,
 * before anything is created or changed. docs/your-project.md documents the keys.
 *
 * Pure except for one check: a local source directory (`path`) must exist and hold a manage.py.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError, ConfigIssue } from "./errors";

/**
 * Where the project's source comes from: a local directory (absolute: the stack's `path` resolved against the
 * repository's top directory), or a git repository at a ref.
 */
export type AppSource = { kind: "dir"; path: string } | { kind: "git"; url: string; ref: string };

/** The validated, defaulted django-ha:app. */
export interface AppSpec {
  /** Stack config `{path: "./app"}` or `{git: "<url>", ref: "main"}`. Defaults to the sample app ./app (resolved: <repository>/app). */
  source: AppSource;
  /** The WSGI callable, `module:attribute`, e.g. "djangoha_app.wsgi:application". */
  wsgiModule: string;
  /** DJANGO_SETTINGS_MODULE, e.g. "djangoha_app.settings". */
  settingsModule: string;
  /** Requirements file, relative to the project's top directory (optional: Debian's packages only). */
  requirements?: string;
  /** Celery app (`celery -A <celeryApp>`). Absent: the worker runs no app queue. */
  celeryApp?: string;
  /**
   * The queues the worker's Celery consumes (`-Q`). Defaults to ["celery"], Celery's default queue (the sample
   * app's: ["video"]). A task routed to a queue not listed here is never run.
   */
  celeryQueues: string[];
  /** URL path answering 200 when the app is healthy (deploy, the health agent, checks). Defaults to "/health/". */
  healthPath: string;
  /** Extra Debian packages on the children and the worker. Defaults to none. */
  debianPackages: string[];
  /** The Python package index the requirements come from (PEP 503 simple). Defaults to the public one. */
  pythonIndexUrl: string;
  /** Non-secret environment of the app (app.env, after the cluster's own variables). Defaults to none. */
  env: Record<string, string>;
  /** Names of the app's secrets; their values are the secret config django-ha:appSecrets (a JSON object). */
  secretKeys: string[];
}

/** The repository's top directory (Pulumi.yaml): relative `path` values are resolved against it. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");
export const DEFAULT_PYTHON_INDEX_URL = "https://pypi.org/simple";
export const DEFAULT_HEALTH_PATH = "/health/";
/** Celery's own default queue (task_default_queue): what a project's tasks go to unless it routes them. */
export const DEFAULT_CELERY_QUEUES = ["celery"];
/** The sample project in this repository (app/): the default when a stack names no project. */
export const SAMPLE_APP: AppSpec = {
  source: { kind: "dir", path: path.join(PROJECT_ROOT, "app") },
  wsgiModule: "djangoha_app.wsgi:application",
  settingsModule: "djangoha_app.settings",
  celeryApp: "djangoha_app",
  celeryQueues: ["video"],
  healthPath: DEFAULT_HEALTH_PATH,
  debianPackages: [],
  pythonIndexUrl: DEFAULT_PYTHON_INDEX_URL,
  env: {},
  secretKeys: [],
};

/**
 * Environment variables the cluster sets for the app (docs/your-project.md): a project's env or secret of
 * the same name would silently replace the cluster's value, so they are refused.
 */
export const CLUSTER_ENV_KEYS = [
  "DJANGO_SETTINGS_MODULE",
  "DJANGO_SECRET_KEY",
  "DJANGO_ALLOWED_HOSTS",
  "DATABASE_URL",
  "DB_HOSTS",
  "DB_PORT",
  "DB_NAME",
  "DB_USER",
  "DB_PASSWORD",
  "CELERY_BROKER_URL",
  "SHARE_ROOT",
  "MEDIA_ROOT",
  "STATIC_ROOT",
  "NODE_NAME",
  "DJANGO_HA_RELEASE",
] as const;
/** Variables the process itself depends on (systemd, Python, the dynamic linker): setting them breaks the app's units. */
export const PROCESS_ENV_KEYS = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "PWD",
  "LANG",
  "PYTHONPATH",
  "PYTHONHOME",
  "VIRTUAL_ENV",
  "LD_PRELOAD",
  "LD_LIBRARY_PATH",
] as const;
/** Prefixes that are not the project's: ours, and uWSGI's (it reads every UWSGI_* variable as an option). */
export const RESERVED_ENV_PREFIXES = ["DJANGO_HA_", "UWSGI_"] as const;

/** The config keys of django-ha:app. */
export const APP_KEYS = [
  "path",
  "git",
  "ref",
  "wsgiModule",
  "settingsModule",
  "requirements",
  "celeryApp",
  "celeryQueues",
  "healthPath",
  "debianPackages",
  "pythonIndexUrl",
  "env",
  "secretKeys",
] as const;

type Add = (path: PropertyKey[], fix: string) => void;

export interface AppParseOptions {
  /** Directory relative `path` values are resolved against. Defaults to PROJECT_ROOT (where Pulumi.yaml is). */
  baseDir?: string;
}

const PYTHON_KEYWORDS = new Set(
  "False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield".split(
    " ",
  ),
);
const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;
const isIdentifier = (s: string) => identifier.test(s) && !PYTHON_KEYWORDS.has(s);
const isDottedModule = (s: string) => s.split(".").every(isIdentifier);
/** Debian Policy 5.6.1: at least two characters, lower-case letters, digits, + - ., starting with a letter or digit. */
const debianPackage = /^[a-z0-9][a-z0-9+.-]+$/;
const envKey = /^[A-Z_][A-Z0-9_]*$/;
/** What app.env may hold: one line that EnvironmentFile= and bash read alike (roles/files/appenv.ts). */
const envValueProblem = (v: string): string | undefined =>
  /[\n\r]/.test(v) || v.includes("\u0000") ? "a line break" : /['\\]/.test(v) ? "a single quote or backslash" : undefined;

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Where a variable name is someone else's, or undefined when the project may use it. */
export function envKeyOwner(key: string): string | undefined {
  if ((CLUSTER_ENV_KEYS as readonly string[]).includes(key)) return "set by the cluster (docs/your-project.md lists what it sets)";
  if ((PROCESS_ENV_KEYS as readonly string[]).includes(key))
    return "one the app's processes depend on (systemd, Python); the cluster sets it";
  const prefix = RESERVED_ENV_PREFIXES.find((p) => key.startsWith(p));
  if (prefix === "UWSGI_") return "read by uWSGI as one of its own options (every UWSGI_* variable is)";
  if (prefix) return `in the cluster's own namespace (${prefix}*)`;
  return undefined;
}

/** A git ref as `git check-ref-format --allow-onelevel` accepts it (a branch, a tag, a commit id). */
export function isGitRef(ref: string): boolean {
  if (!ref || ref === "@" || ref.startsWith("-") || ref.startsWith("/") || ref.endsWith("/") || ref.endsWith(".") || ref.endsWith(".lock"))
    return false;
  // Control characters and space, DEL, and the characters git gives a meaning to.
  if (
    [...ref].some((ch) => ch.charCodeAt(0) <= 0x20 || ch.charCodeAt(0) === 0x7f) ||
    /[~^:?*[\\]/.test(ref) ||
    ref.includes("..") ||
    ref.includes("@{") ||
    ref.includes("//")
  )
    return false;
  return ref.split("/").every((part) => part.length > 0 && !part.startsWith("."));
}

/** A git remote the operator's machine can clone: https://, ssh://, file:// or scp-like user@host:path. Plain http:// and git:// are refused (no integrity). */
export function gitUrlProblem(url: string): string | undefined {
  if (/\s/.test(url)) return "must not contain spaces";
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/].*$/.test(url) || /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\/.+$/.test(url)) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "is not a git URL; write https://github.com/you/shop.git, git@github.com:you/shop.git, ssh://git@host/you/shop.git or file:///srv/git/shop.git";
  }
  if (u.protocol === "http:" || u.protocol === "git:")
    return `uses ${u.protocol}//, which has no transport security (anyone on the path could change the code you deploy); use https:// or ssh://`;
  if (!["https:", "ssh:", "file:"].includes(u.protocol)) return "is not a git URL; write https://…, ssh://…, git@host:path or file:///…";
  if (u.protocol === "https:" && u.password)
    return "holds a password or token in plain text in the stack config; remove it and let git's credential helper or an SSH key authenticate";
  if (u.protocol !== "file:" && !u.hostname) return "names no host; write e.g. https://github.com/you/shop.git";
  return undefined;
}

/** A Python package index URL (PEP 503 simple): http or https, no credentials in it. */
export function indexUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `is not a URL; write the index's simple URL, e.g. ${DEFAULT_PYTHON_INDEX_URL} (the default)`;
  }
  if (u.protocol !== "https:" && u.protocol !== "http:")
    return `must be an http:// or https:// URL of a PEP 503 simple index, e.g. ${DEFAULT_PYTHON_INDEX_URL} (pip reads no other scheme for an index)`;
  if (u.username || u.password)
    return "holds credentials in plain text in the stack config; use an index that the nodes' network may read, without credentials in the URL";
  if (u.search || u.hash) return "must not have a query or a fragment; write the index's simple URL, e.g. https://pypi.org/simple";
  return undefined;
}

/**
 * pip's options for an index (`pip install <these> -r …`): `--index-url`, and for a plain-http index also
 * `--trusted-host <host[:port]>`, without which pip ignores it ("not a trusted or secure host"). An http index is
 * the stack's explicit choice (a private network, the lab's own index). Pure.
 */
export function pipIndexOptions(url: string): string[] {
  const u = new URL(url);
  return u.protocol === "http:" ? ["--index-url", url, "--trusted-host", u.host] : ["--index-url", url];
}

/** A path inside the project (requirements): relative, no `..`, no leading `/`. */
function insideProjectProblem(p: string): string | undefined {
  if (!p.trim()) return "must be a file name inside the project, e.g. requirements.txt";
  if (path.posix.isAbsolute(p) || /^[A-Za-z]:/.test(p) || p.includes("\\"))
    return "must be relative to the project's top directory (where manage.py is), e.g. requirements.txt or requirements/production.txt";
  if (p.split("/").includes("..")) return "must stay inside the project (no '..'): the release is built from the project's directory alone";
  return undefined;
}

/** The local directory a stack's `path` names: resolved against baseDir (relative) or as given (absolute). */
function resolveDir(given: string, baseDir = PROJECT_ROOT): string {
  return path.resolve(baseDir, given);
}

/** Problems of a local project directory: missing, not a directory, no manage.py at its top. */
function dirSourceProblem(dir: string, given: string): string | undefined {
  const shown = dir === given ? dir : `${given} (${dir})`;
  if (!fs.existsSync(dir))
    return `does not exist: ${shown}; give the directory of your Django project (the one with manage.py), relative to ${PROJECT_ROOT} or absolute`;
  if (!fs.statSync(dir).isDirectory())
    return `is not a directory: ${shown}; give the directory of your Django project (the one with manage.py)`;
  if (!fs.existsSync(path.join(dir, "manage.py")))
    return `has no manage.py at its top: ${shown}; give the directory that holds manage.py (migrations and collectstatic run through it)`;
  return undefined;
}

function stringAt(raw: Record<string, unknown>, key: string, add: Add, example: string): string | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") {
    add(["app", key], `must be text, e.g. ${example}`);
    return undefined;
  }
  return v;
}

function envIssues(value: unknown, add: Add): Record<string, string> {
  if (value === undefined) return {};
  if (!isMap(value)) {
    add(["app", "env"], 'must be a map of variable names to text, e.g. { SHOP_CURRENCY: "EUR" }');
    return {};
  }
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    const at = ["app", "env", k];
    const owner = envKeyOwner(k);
    if (!envKey.test(k))
      add(
        at,
        `has a name that is not an environment variable name: use upper-case letters, digits and _, not starting with a digit, e.g. SHOP_CURRENCY`,
      );
    else if (owner) add(at, `is ${owner}; rename the project's variable (e.g. SHOP_${k.replace(/^(DJANGO_HA_|UWSGI_)/, "")})`);
    else if (typeof v !== "string") add(at, `must be text: write ${JSON.stringify(String(v))} (in quotes), not ${JSON.stringify(v)}`);
    else if (envValueProblem(v))
      add(
        at,
        `contains ${envValueProblem(v)}, which the environment file cannot hold the same way for systemd and bash; use one line without ' and \\`,
      );
    else env[k] = v;
  }
  return env;
}

function secretKeyIssues(value: unknown, env: Record<string, unknown>, add: Add): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    add(
      ["app", "secretKeys"],
      'must be a list of variable names, e.g. ["STRIPE_API_KEY"]; their values go in the secret django-ha:appSecrets',
    );
    return [];
  }
  const seen = new Map<string, number>();
  const keys: string[] = [];
  value.forEach((k, i) => {
    const at = ["app", "secretKeys", i];
    if (typeof k !== "string" || !envKey.test(k))
      add(at, "must be an environment variable name: upper-case letters, digits and _, not starting with a digit, e.g. STRIPE_API_KEY");
    else if (envKeyOwner(k)) add(at, `is ${envKeyOwner(k)}; name the project's secret differently`);
    else if (seen.has(k)) add(at, `is listed twice (also django-ha:app.secretKeys[${seen.get(k)}]); list each secret once`);
    else if (k in env)
      add(at, `is also in django-ha:app.env; a variable is either plain (env) or secret (secretKeys), not both; remove it from one`);
    else keys.push(k);
    if (typeof k === "string" && !seen.has(k)) seen.set(k, i);
  });
  return keys;
}

/** A queue name the worker's command line carries as is: letters, digits and . _ : - (no commas, spaces or %). */
const celeryQueue = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/** django-ha:app.celeryQueues: a non-empty list of distinct queue names, only with a Celery app. */
function celeryQueueIssues(raw: Record<string, unknown>, add: Add): string[] | undefined {
  const value = raw.celeryQueues;
  if (value === undefined) return undefined;
  const at = ["app", "celeryQueues"];
  if (!Array.isArray(value) || value.length === 0) {
    add(at, 'must be a non-empty list of the Celery queues your tasks go to, e.g. ["celery"] (Celery\'s default) or ["celery", "mail"]');
    return undefined;
  }
  if (raw.celeryApp === undefined)
    add(at, "is set but django-ha:app.celeryApp is not: no Celery worker runs to consume them; set celeryApp, or remove celeryQueues");
  const queues: string[] = [];
  value.forEach((q, i) => {
    if (typeof q !== "string" || !celeryQueue.test(q))
      add([...at, i], "is not a queue name the worker can consume: letters, digits and . _ : - (at most 100), e.g. celery or video.high");
    else if (queues.includes(q))
      add([...at, i], `is listed twice (also django-ha:app.celeryQueues[${queues.indexOf(q)}]); list each queue once`);
    else queues.push(q);
  });
  return queues;
}

function packageIssues(value: unknown, add: Add): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    add(["app", "debianPackages"], "must be a list of Debian package names, e.g. [libmagic1, python3-pil]");
    return [];
  }
  const names: string[] = [];
  value.forEach((p, i) => {
    const at = ["app", "debianPackages", i];
    if (typeof p === "string" && /^[a-z0-9][a-z0-9+.-]+[=/]/.test(p))
      add(
        at,
        `pins a version or a suite; give the package name only (${p.split(/[=/]/)[0]}): the nodes install Debian's version of their release`,
      );
    else if (typeof p !== "string" || !debianPackage.test(p))
      add(
        at,
        "is not a Debian package name: lower-case letters, digits and + - ., at least two characters, starting with a letter or digit, e.g. libmagic1",
      );
    else if (names.includes(p)) add(at, "is listed twice; list each package once");
    else names.push(p);
  });
  return names;
}

/** django-ha:app's source: a directory or a git repository (with a ref); neither = the sample app. */
function sourceOf(raw: Record<string, unknown>, add: Add, baseDir: string): AppSource {
  const dirPath = stringAt(raw, "path", add, "./shop");
  const gitUrl = stringAt(raw, "git", add, "https://github.com/you/shop.git");
  const ref = stringAt(raw, "ref", add, "main");
  let source: AppSource = SAMPLE_APP.source;
  if (raw.path !== undefined && raw.git !== undefined) {
    add(
      ["app", "git"],
      "is set together with django-ha:app.path; a project comes from one place: keep path (a local directory) or git (with ref), not both",
    );
  } else if (gitUrl !== undefined) {
    const problem = gitUrlProblem(gitUrl);
    if (problem) add(["app", "git"], problem);
    if (raw.ref === undefined)
      add(
        ["app", "ref"],
        "is required with django-ha:app.git: the branch, tag or commit to deploy, e.g. main or v1.4.2 (npm run deploy -- --ref overrides it for one run)",
      );
    else if (ref !== undefined && !isGitRef(ref))
      add(
        ["app", "ref"],
        "is not a git ref name (no spaces, ~ ^ : ? * [ \\, '..' or '@{'); write a branch, tag or commit, e.g. main, v1.4.2 or 3f2c1a9",
      );
    source = { kind: "git", url: gitUrl, ref: ref ?? "" };
  } else if (dirPath !== undefined) {
    const problem = dirPath.trim()
      ? dirSourceProblem(resolveDir(dirPath, baseDir), dirPath)
      : "must be the directory of your Django project, e.g. ./shop";
    if (problem) add(["app", "path"], problem);
    source = { kind: "dir", path: resolveDir(dirPath, baseDir) };
  }
  if (raw.ref !== undefined && raw.git === undefined)
    add(["app", "ref"], "is only for a git source (django-ha:app.git); remove it, or set git to the repository's URL");

  return source;
}

/** The Python modules: each must parse; a project other than the sample must name its WSGI and settings modules. */
function moduleIssues(
  raw: Record<string, unknown>,
  m: { wsgiModule?: string; settingsModule?: string; celeryApp?: string },
  isSample: boolean,
  add: Add,
): void {
  const { wsgiModule, settingsModule, celeryApp } = m;
  const required = (key: string, example: string) =>
    add(["app", key], `is required for your own project (the sample's default is only for ./app): e.g. ${example}`);

  if (wsgiModule !== undefined) {
    const [mod, attr, ...extra] = wsgiModule.split(":");
    if (attr === undefined || extra.length || !isDottedModule(mod) || !isIdentifier(attr))
      add(
        ["app", "wsgiModule"],
        "must be <dotted.module>:<callable> of Python identifiers, e.g. shop.wsgi:application (what WSGI_APPLICATION names)",
      );
  } else if (raw.wsgiModule === undefined && !isSample) required("wsgiModule", '"shop.wsgi:application"');
  if (settingsModule !== undefined) {
    if (!isDottedModule(settingsModule))
      add(
        ["app", "settingsModule"],
        "must be a dotted Python module path, e.g. shop.settings or config.settings.production (what DJANGO_SETTINGS_MODULE names)",
      );
  } else if (raw.settingsModule === undefined && !isSample) required("settingsModule", "shop.settings");
  if (celeryApp !== undefined) {
    const [mod, attr, ...extra] = celeryApp.split(":");
    if (extra.length || !isDottedModule(mod) || (attr !== undefined && !isIdentifier(attr)))
      add(
        ["app", "celeryApp"],
        "must be the module `celery -A` loads (optionally :attribute), e.g. shop or shop.celery:app; remove it when the project has no Celery app",
      );
  }
}

/**
 * The validated django-ha:app (`raw` is the decoded value, undefined when the stack does not set it), every
 * problem reported through `add` with its path (["app", …]). Used by the spec builder (model/buildSpec.ts).
 */
export function appSpecOf(raw: unknown, add: Add, options: AppParseOptions = {}): AppSpec {
  if (raw === undefined) return structuredClone(SAMPLE_APP);
  if (!isMap(raw)) {
    add(["app"], 'must be a map, e.g. { path: ./shop, wsgiModule: "shop.wsgi:application", settingsModule: shop.settings }');
    return structuredClone(SAMPLE_APP);
  }
  for (const k of Object.keys(raw)) {
    if (!(APP_KEYS as readonly string[]).includes(k))
      add(["app", k], `is not a known key of django-ha:app; known keys: ${APP_KEYS.join(", ")} (docs/your-project.md)`);
  }
  const source = sourceOf(raw, add, options.baseDir ?? PROJECT_ROOT);

  // Modules: the sample's by default, but only for the sample itself; another project must name its own.
  const isSample = source.kind === "dir" && source.path === (SAMPLE_APP.source as { path: string }).path;
  const wsgiModule = stringAt(raw, "wsgiModule", add, '"shop.wsgi:application"');
  const settingsModule = stringAt(raw, "settingsModule", add, "shop.settings");
  const celeryApp = stringAt(raw, "celeryApp", add, "shop");
  const requirements = stringAt(raw, "requirements", add, "requirements.txt");
  const healthPath = stringAt(raw, "healthPath", add, '"/health/"');
  const pythonIndexUrl = stringAt(raw, "pythonIndexUrl", add, DEFAULT_PYTHON_INDEX_URL);
  moduleIssues(raw, { wsgiModule, settingsModule, celeryApp }, isSample, add);
  if (requirements !== undefined) {
    const problem = insideProjectProblem(requirements);
    if (problem) add(["app", "requirements"], problem);
    else if (source.kind === "dir" && fs.existsSync(source.path) && !fs.existsSync(path.join(source.path, requirements))) {
      add(
        ["app", "requirements"],
        `does not exist in ${source.path}; give the requirements file's path inside the project, or remove the key when Debian's packages are all the project needs`,
      );
    }
  }
  if (healthPath !== undefined && !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(healthPath)) {
    add(
      ["app", "healthPath"],
      'must be a URL path starting with /, without spaces, query or fragment, e.g. "/health/" (a view that answers 200 when the app can serve)',
    );
  }
  if (pythonIndexUrl !== undefined) {
    const problem = indexUrlProblem(pythonIndexUrl);
    if (problem) add(["app", "pythonIndexUrl"], problem);
  }
  const debianPackages = packageIssues(raw.debianPackages, add);
  const celeryQueues = celeryQueueIssues(raw, add);
  const env = envIssues(raw.env, add);
  const secretKeys = secretKeyIssues(raw.secretKeys, isMap(raw.env) ? raw.env : {}, add);

  const sample = isSample ? SAMPLE_APP : undefined;
  return {
    source,
    wsgiModule: wsgiModule ?? sample?.wsgiModule ?? "",
    settingsModule: settingsModule ?? sample?.settingsModule ?? "",
    ...(requirements !== undefined ? { requirements } : {}),
    ...(celeryApp !== undefined ? { celeryApp } : raw.celeryApp === undefined && sample?.celeryApp ? { celeryApp: sample.celeryApp } : {}),
    celeryQueues: celeryQueues ?? [...(sample?.celeryQueues ?? DEFAULT_CELERY_QUEUES)],
    healthPath: healthPath ?? DEFAULT_HEALTH_PATH,
    debianPackages,
    pythonIndexUrl: pythonIndexUrl ?? DEFAULT_PYTHON_INDEX_URL,
    env,
    secretKeys,
  };
}

/** One line for the offline plan: where the project is and what the cluster runs of it. Pure. */
export function appSummary(app: AppSpec, root = PROJECT_ROOT): string {
  const where = app.source.kind === "git" ? `${app.source.url} @ ${app.source.ref}` : path.relative(root, app.source.path) || ".";
  const sample = app.source.kind === "dir" && app.source.path === (SAMPLE_APP.source as { path: string }).path ? " (the sample)" : "";
  const list = (xs: string[]) => (xs.length ? xs.join(", ") : "none");
  return [
    `app ${where}${sample}`,
    `wsgi ${app.wsgiModule}`,
    `settings ${app.settingsModule}`,
    `celery ${app.celeryApp ? `${app.celeryApp} (queues ${app.celeryQueues.join(", ")})` : "none"}`,
    `health ${app.healthPath}`,
    `requirements ${app.requirements ?? "none"} from ${app.pythonIndexUrl}`,
    `debian packages ${list(app.debianPackages)}`,
    `env ${list(Object.keys(app.env))}`,
    `secrets ${list(app.secretKeys)}`,
  ].join("  ");
}

function show(value: unknown): string {
  return value === undefined ? "(not set)" : JSON.stringify(value);
}

/** `django-ha:app.env.SHOP`, `django-ha:app.secretKeys[0]`. */
export function appKeyOf(p: PropertyKey[]): string {
  const [head, ...rest] = p.map(String);
  return `django-ha:${head}${rest.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join("")}`;
}

/**
 * Validate django-ha:app alone (`raw` as decoded from the stack config; undefined = the sample app). Throws one
 * ConfigError (`where`: the stack file or "stack <name>", for the message) listing every problem.
 */
export function parseAppConfig(raw: unknown, where: string, options: AppParseOptions = {}): AppSpec {
  const issues: ConfigIssue[] = [];
  const add: Add = (p, fix) => {
    let cur: unknown = { app: raw };
    for (const k of p) cur = isMap(cur) || Array.isArray(cur) ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
    issues.push({ key: appKeyOf(p), value: show(cur), fix });
  };
  const spec = appSpecOf(raw, add, options);
  if (issues.length) throw new ConfigError(issues, where);
  return spec;
}

/** The secret config key holding the values of app.secretKeys (a JSON object). */
export const APP_SECRETS_KEY = "appSecrets";

/**
 * Problems of django-ha:appSecrets (`given`: its decoded value, undefined when unset) against app.secretKeys:
 * a JSON object with exactly those keys, each a one-line text. Values are never shown. Pure.
 */
export function appSecretIssues(given: unknown, secretKeys: string[], stack: string): ConfigIssue[] {
  const key = `django-ha:${APP_SECRETS_KEY}`;
  const set = `pulumi config set --secret --stack ${stack} ${key} '{${secretKeys.map((k) => `"${k}": "…"`).join(", ")}}'`;
  if (given === undefined || given === "") {
    return secretKeys.length
      ? [
          {
            key,
            value: "(not set)",
            fix: `is required: django-ha:app.secretKeys names ${secretKeys.join(", ")}; set their values with \`${set}\``,
          },
        ]
      : [];
  }
  if (!isMap(given))
    return [
      {
        key,
        value: "(a secret, not shown)",
        fix: `must be a JSON object of the secrets named in django-ha:app.secretKeys; set it with \`${set}\``,
      },
    ];
  const issues: ConfigIssue[] = [];
  const missing = secretKeys.filter((k) => !(k in given));
  const extra = Object.keys(given).filter((k) => !secretKeys.includes(k));
  if (missing.length)
    issues.push({
      key,
      value: "(a secret, not shown)",
      fix: `has no value for ${missing.join(", ")} (named in django-ha:app.secretKeys); add them: \`${set}\``,
    });
  if (extra.length)
    issues.push({
      key,
      value: "(a secret, not shown)",
      fix: `holds ${extra.join(", ")}, which django-ha:app.secretKeys does not name; add the names to app.secretKeys or remove them from the secret`,
    });
  for (const k of secretKeys.filter((k) => k in given)) {
    const v = given[k];
    if (typeof v !== "string" || v === "")
      issues.push({ key: `${key}.${k}`, value: "(a secret, not shown)", fix: "must be a non-empty text value" });
    else if (envValueProblem(v))
      issues.push({
        key: `${key}.${k}`,
        value: "(a secret, not shown)",
        fix: `contains ${envValueProblem(v)}, which the secrets file cannot hold the same way for systemd and bash; use one line without ' and \\ (e.g. base64 the value)`,
      });
  }
  return issues;
}
