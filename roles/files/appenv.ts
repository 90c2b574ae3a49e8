/**
 * /etc/django-ha/app.env and /etc/django-ha/app-secrets.env: KEY=VALUE lines read by systemd's
 * EnvironmentFile= and by bash (`set -a; . file`). Values outside a safe character set are single-quoted,
 * which both systemd and bash read the same way. docs/your-project.md documents every variable.
 */
export interface AppEnv {
  /** The project's DJANGO_SETTINGS_MODULE (django-ha:app.settingsModule). */
  settingsModule: string;
  secretKey: string;
  allowedHosts: string[];
  /** The database machines, the current primary first (libpq tries them in order). */
  dbHosts: string[];
  dbPort: number;
  dbName: string;
  dbUser: string;
  dbPassword: string;
  brokerUrl: string;
  shareRoot: string;
  mediaRoot: string;
  staticRoot: string;
  nodeName: string;
  /** The project's own variables (django-ha:app.env), after the cluster's. Defaults to none. */
  extra?: Record<string, string>;
}

function envValue(file: string, key: string, value: string): string {
  if (/['\n\r\\]/.test(value))
    throw new Error(
      `${file} ${key}: the value contains a quote, backslash or newline, which EnvironmentFile= and bash read differently; choose another value`,
    );
  return /^[A-Za-z0-9_./:,@%+=-]*$/.test(value) ? value : `'${value}'`;
}

const envLine =
  (file: string) =>
  ([k, v]: [string, string]) => {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(k))
      throw new Error(`${file}: ${JSON.stringify(k)} is not an environment variable name (upper-case letters, digits and _)`);
    return `${k}=${envValue(file, k, v)}`;
  };

/** RFC 3986 percent-encoding of a user, password or name (encodeURIComponent leaves !'()* as they are). */
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A host in a URL: IPv6 addresses in brackets. */
const urlHost = (h: string) => (h.includes(":") ? `[${h}]` : h);

/**
 * DATABASE_URL: a libpq multi-host URI. libpq tries the hosts in order (3 s each) and keeps the one that
 * accepts writes, so after a failover the app finds the new primary. User and password are percent-encoded,
 * so the host list is exactly what lies between the only `@` and the next `/` (the failover rewrites it there).
 */
export function databaseUrl(e: Pick<AppEnv, "dbHosts" | "dbPort" | "dbName" | "dbUser" | "dbPassword">): string {
  const hosts = e.dbHosts.map((h) => `${urlHost(h)}:${e.dbPort}`).join(",");
  return `postgresql://${encode(e.dbUser)}:${encode(e.dbPassword)}@${hosts}/${encode(e.dbName)}?target_session_attrs=read-write&connect_timeout=3`;
}

export function renderAppEnv(env: AppEnv): string {
  const file = "app.env";
  const pairs: [string, string][] = [
    ["DJANGO_SETTINGS_MODULE", env.settingsModule],
    ["DJANGO_SECRET_KEY", env.secretKey],
    ["DJANGO_ALLOWED_HOSTS", env.allowedHosts.join(",")],
    ["DATABASE_URL", databaseUrl(env)],
    ["DB_HOSTS", env.dbHosts.join(",")],
    ["DB_PORT", String(env.dbPort)],
    ["DB_NAME", env.dbName],
    ["DB_USER", env.dbUser],
    ["DB_PASSWORD", env.dbPassword],
    ["CELERY_BROKER_URL", env.brokerUrl],
    ["SHARE_ROOT", env.shareRoot],
    ["MEDIA_ROOT", env.mediaRoot],
    ["STATIC_ROOT", env.staticRoot],
    ["NODE_NAME", env.nodeName],
  ];
  const own = Object.entries(env.extra ?? {});
  const clash = own.find(([k]) => pairs.some(([c]) => c === k));
  if (clash) throw new Error(`${file}: the project's variable ${clash[0]} is one the cluster sets; rename it in django-ha:app.env`);
  return [
    "# django-ha: environment of the Django app (uWSGI, Celery, manage.py). Secret: mode 0640 root:django.",
    "# The cluster's variables (docs/your-project.md); DJANGO_HA_RELEASE is set when a process starts.",
    ...pairs.map(envLine(file)),
    ...(own.length ? ["# The project's own (django-ha:app.env)", ...own.map(envLine(file))] : []),
    "",
  ].join("\n");
}

/**
 * /etc/pip.conf on the nodes that build and run releases: pip ignores a plain-http index unless it trusts its
 * host, so an http django-ha:app.pythonIndexUrl (a private network's index, the lab's) is trusted here, for every
 * pip run on the node (release builds, an operator's). An https index needs nothing. Pure.
 */
export function renderPipConf(pythonIndexUrl: string): string {
  const u = new URL(pythonIndexUrl);
  return [
    "# django-ha: pip on this node (django-ha:app.pythonIndexUrl; the index itself is passed to each pip run).",
    "[global]",
    ...(u.protocol === "http:" ? [`# ${u.origin} is plain http: trusted as the stack names it.`, `trusted-host = ${u.host}`] : []),
    "",
  ].join("\n");
}

/** The app's secrets (django-ha:appSecrets): loaded after app.env by every app unit and manage.py run. */
export function renderAppSecretsEnv(secrets: Record<string, string>): string {
  const file = "app-secrets.env";
  return [
    "# django-ha: the app's secrets (django-ha:appSecrets, names in django-ha:app.secretKeys). Mode 0640 root:django.",
    ...Object.entries(secrets)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(envLine(file)),
    "",
  ].join("\n");
}
