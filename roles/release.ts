/**
 * The release layout on the share and on each node (docs/releases.md), and the two small programs every app
 * process starts through, so that a process runs exactly one release's src and venv from start to end.
 */

/** Where releases live and how nodes point at them. */
export const RELEASE_PATHS = {
  /** `<releases>/<id>/{src,venv,release.json,.ready}`. */
  releases: "/srv/share/releases",
  /** The release new nodes start on (a relative link to `<id>`), moved by deploy and rollback when every child runs it. */
  shareCurrent: "/srv/share/releases/current",
  /** On the worker: source tarballs the operator's machine uploaded, until the build unpacks them onto the share. */
  incoming: "/var/tmp/django-ha",
  /** Held (flock) while a release is built or releases are deleted. */
  buildLock: "/srv/share/releases/.build.lock",
  /** Held (flock) while migrations run: once per deploy, never twice at once. */
  migrateLock: "/srv/share/releases/.migrate.lock",
  /** Each child's and the worker's own link to the release it runs: `/srv/share/releases/<id>`. */
  nodeCurrent: "/var/lib/django-ha/current",
  /** Maintenance and read-only flags (nginx tests their existence on every request). */
  flags: "/srv/share/.django-ha",
  maintenanceFlag: "/srv/share/.django-ha/maintenance",
  readOnlyFlag: "/srv/share/.django-ha/read-only",
  /** The WSGI loader uWSGI imports in each worker (lazy-apps) and the launcher of Celery and manage.py. */
  libDir: "/usr/lib/django-ha",
  wsgiLoader: "/usr/lib/django-ha/django_ha_release.py",
  python: "/usr/lib/django-ha/release-python",
  /** uWSGI's stats socket: which workers run (their pids tell a finished chain reload). */
  uwsgiStats: "/run/django-ha-uwsgi/stats.sock",
} as const;

/** Module name of the WSGI loader (its file is RELEASE_PATHS.wsgiLoader). */
export const WSGI_LOADER_MODULE = "django_ha_release";
/** Response header naming the release that answered: how a deploy proves a child runs the new release. */
export const RELEASE_HEADER = "X-Django-HA-Release";
/** `<UTC yyyymmddHHMMSS>-<12 hex of the source content hash>`. */
export const RELEASE_ID_PATTERN = /^[0-9]{14}-[0-9a-f]{12}$/;

/**
 * The WSGI loader. uWSGI runs with lazy-apps, so every worker imports this module after its fork: the release
 * is resolved once per worker, here (a chdir or sys.path through the link would keep the old code after a
 * reload, unbit/uwsgi#706). The project comes first on sys.path, then the release venv's packages ahead of
 * Debian's (as inside the venv itself). Every response names the release in RELEASE_HEADER.
 */
export function renderWsgiLoader(): string {
  return `"""django-ha: load this node's release in a uWSGI worker (once per worker; see docs/releases.md)."""
import importlib
import os
import site
import sys

LINK = ${JSON.stringify(RELEASE_PATHS.nodeCurrent)}
HEADER = ${JSON.stringify(RELEASE_HEADER)}

release_dir = os.environ.get("DJANGO_HA_RELEASE_DIR") or os.path.realpath(LINK)
release = os.path.basename(release_dir)
if not os.path.exists(os.path.join(release_dir, ".ready")):
    raise RuntimeError(f"{release_dir} is not a finished release (no .ready): deploy one with npm run deploy")
os.environ["DJANGO_HA_RELEASE"] = release
os.environ["DJANGO_HA_RELEASE_DIR"] = release_dir
src = os.path.join(release_dir, "src")
venv_site = os.path.join(release_dir, "venv", "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}", "site-packages")
before = [p for p in sys.path if p != src]
site.addsitedir(venv_site)
added = [p for p in sys.path if p not in before and p != src]
first_system = next((i for i, p in enumerate(before) if p.endswith(("dist-packages", "site-packages"))), len(before))
sys.path[:] = [src] + before[:first_system] + added + before[first_system:]
os.chdir(src)
module_name, _, attribute = os.environ["DJANGO_HA_WSGI"].partition(":")
app = getattr(importlib.import_module(module_name), attribute or "application")


def application(environ, start_response):
    def start(status, headers, exc_info=None):
        return start_response(status, list(headers) + [(HEADER, release)], exc_info)

    return app(environ, start)
`;
}

/** Runs the python of this node's release (its venv) in its src, with DJANGO_HA_RELEASE set: Celery, manage.py. */
export function renderReleasePython(): string {
  return `#!/bin/bash
# django-ha: python of this node's release (resolved once, at start): its venv, its src as working directory.
set -euo pipefail
release_dir=\${DJANGO_HA_RELEASE_DIR:-$(readlink -f ${RELEASE_PATHS.nodeCurrent} || true)}
if [ -z "$release_dir" ] || [ ! -e "$release_dir/.ready" ]; then
  echo "${RELEASE_PATHS.nodeCurrent} leads to no finished release (\${release_dir:-nothing}): deploy one with npm run deploy" >&2
  exit 1
fi
export DJANGO_HA_RELEASE_DIR=$release_dir
export DJANGO_HA_RELEASE=\${release_dir##*/}
cd "$release_dir/src"
exec "$release_dir/venv/bin/python" "$@"
`;
}
