/** The uWSGI app ini (Debian's uwsgi + python3 plugin), run by our own systemd unit without an emperor. */
export interface UwsgiApp {
  /** A directory that never moves (the release is resolved by the WSGI loader in each worker, not by chdir). */
  chdir: string;
  /** Where the WSGI loader module lives. */
  pythonpath: string;
  /** `module:callable` uWSGI imports in each worker (lazy-apps). */
  module: string;
  /** Environment of the workers (e.g. the app's own WSGI module for the loader). */
  env: Record<string, string>;
  /** uWSGI's stats socket (JSON): which workers run, whether they accept. */
  statsSocket: string;
  socket: string;
  chainReloadFile: string;
  processes: number;
  harakiriSeconds: number;
  maxRequests: number;
  reloadOnRssMb: number;
}

export function renderUwsgiIni(app: UwsgiApp): string {
  const opts: [string, string | number][] = [
    ["strict", "true"],
    ["plugins", "python3"],
    ["master", "true"],
    ["chdir", app.chdir],
    ["pythonpath", app.pythonpath],
    ["module", app.module],
    ...Object.entries(app.env).map(([k, v]): [string, string] => ["env", `${k}=${v}`]),
    ["need-app", "true"],
    ["lazy-apps", "true"],
    ["touch-chain-reload", app.chainReloadFile],
    ["processes", app.processes],
    ["enable-threads", "true"],
    ["single-interpreter", "true"],
    ["socket", app.socket],
    ["chmod-socket", "660"],
    ["stats", app.statsSocket],
    ["vacuum", "true"],
    ["die-on-term", "true"],
    // A stop's SIGINT/SIGTERM ends a worker with _exit(). uWSGI otherwise calls exit() inside the signal handler:
    // atexit handlers (the app's, Python's finalization, OpenSSL's cleanup) then run wherever the signal struck,
    // and systemd and the master each signal every worker, so a second exit() can start in the middle of the
    // first. Any of them hanging or deadlocking makes the stop wait out uWSGI's 60 s mercy.
    ["skip-atexit", "true"],
    ["harakiri", app.harakiriSeconds],
    ["max-requests", app.maxRequests],
    ["reload-on-rss", app.reloadOnRssMb],
    ["post-buffering", 65536],
    ["buffer-size", 32768],
    ["auto-procname", "true"],
    ["procname-prefix-spaced", "django-ha"],
    ["log-x-forwarded-for", "true"],
  ];
  return [
    "; django-ha: the Django app under uWSGI (settings from the environment, see app.env).",
    "[uwsgi]",
    ...opts.map(([k, v]) => `${k} = ${v}`),
    "",
  ].join("\n");
}
