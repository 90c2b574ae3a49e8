/** The uWSGI app ini (Debian's uwsgi + python3 plugin), run by our own systemd unit without an emperor. */
export interface UwsgiApp {
  chdir: string;
  module: string;
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
    ["module", app.module],
    ["need-app", "true"],
    ["lazy-apps", "true"],
    ["touch-chain-reload", app.chainReloadFile],
    ["processes", app.processes],
    ["enable-threads", "true"],
    ["single-interpreter", "true"],
    ["socket", app.socket],
    ["chmod-socket", "660"],
    ["vacuum", "true"],
    ["die-on-term", "true"],
    ["harakiri", app.harakiriSeconds],
    ["max-requests", app.maxRequests],
    ["reload-on-rss", app.reloadOnRssMb],
    ["post-buffering", 65536],
    ["buffer-size", 32768],
    ["auto-procname", "true"],
    ["procname-prefix-spaced", "django-ha"],
    ["log-x-forwarded-for", "true"],
  ];
  return ["; django-ha: the Django app under uWSGI (settings from the environment, see app.env).", "[uwsgi]", ...opts.map(([k, v]) => `${k} = ${v}`), ""].join("\n");
}
