/**
 * /etc/django-ha/app.env: KEY=VALUE lines read by systemd's EnvironmentFile= and by bash (`set -a; . file`).
 * Values outside a safe character set are single-quoted, which both systemd and bash read the same way.
 */
export interface AppEnv {
  secretKey: string;
  allowedHosts: string[];
  dbHosts: string[];
  dbPort: number;
  dbName: string;
  dbUser: string;
  dbPassword: string;
  brokerUrl: string;
  shareRoot: string;
  nodeName: string;
}

function envValue(key: string, value: string): string {
  if (/['\n\r\\]/.test(value)) throw new Error(`app.env ${key}: the value contains a quote, backslash or newline, which EnvironmentFile= and bash read differently; choose another value`);
  return /^[A-Za-z0-9_./:,@%+=-]*$/.test(value) ? value : `'${value}'`;
}

export function renderAppEnv(env: AppEnv): string {
  const pairs: [string, string][] = [
    ["DJANGO_SETTINGS_MODULE", "djangoha_app.settings"],
    ["DJANGO_SECRET_KEY", env.secretKey],
    ["DJANGO_ALLOWED_HOSTS", env.allowedHosts.join(",")],
    ["DB_HOSTS", env.dbHosts.join(",")],
    ["DB_PORT", String(env.dbPort)],
    ["DB_NAME", env.dbName],
    ["DB_USER", env.dbUser],
    ["DB_PASSWORD", env.dbPassword],
    ["CELERY_BROKER_URL", env.brokerUrl],
    ["SHARE_ROOT", env.shareRoot],
    ["NODE_NAME", env.nodeName],
  ];
  return ["# django-ha: environment of the Django app (uWSGI, Celery, manage.py). Secret: mode 0640 root:django.", ...pairs.map(([k, v]) => `${k}=${envValue(k, v)}`), ""].join("\n");
}
