/**
 * The release layout on the share and on each node (docs/releases.md), and the two small programs every app
 * process starts through, so that a process runs exactly one release's src and venv from start to end.
 */
import { APP_ENV_FILES } from "./app";
import { bashScript, shellQuote } from "./shell";
import { pipIndexOptions, type AppSpec } from "../model/app";

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
  /** nginx's maintenance and read-only pages. */
  pages: "/usr/share/django-ha/pages",
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
import signal
import site
import sys

# uWSGI gives a worker its stop handlers only once the app is loaded. Until then SIGINT is Python's
# KeyboardInterrupt, which a bare except in an import can swallow: the worker lives on, and a stop that came
# while it loaded waits out uWSGI's mercy (60 s). Stopping while loading ends the worker at once instead.
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGTERM, signal.SIG_DFL)

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

// ------------------------------------------------------------------ programs the bootstrap and deploy share
// Fixed bash programs with their data as positional arguments (ops/release/commands/ builds their argv; the
// worker's first-release script runs the same text).

/** Loads the app's environment files named by the remaining arguments (those that exist), exported. */
export const LOAD_ENV = `load_env() {
  set -a
  local f
  for f in "$@"; do
    # shellcheck source=/dev/null
    if [ -f "$f" ]; then . "$f"; fi
  done
  set +a
}`;

/**
 * Build release $2 from the source tarball $3 into $1/$2, as the app user, under the build lock: unpack into
 * src/, `python3 -m venv --system-site-packages` (Debian's Django, psycopg2, Celery stay the base), pip install
 * the requirements ($4, inside the project; empty = none) from the index $5, compile the bytecode, collectstatic
 * (hashed names, into the shared static root $9) with settings $6, release.json ($7: the operator's facts as
 * JSON), then `.ready` last. $12: the index's host:port when it is plain http (pip's --trusted-host), else empty. A failed build leaves no directory behind. Full output in the log $11 on this node.
 * Prints `build=done` or `build=reused` (the release was finished already).
 */
export const BUILD = `set -euo pipefail
releases=$1; id=$2; tarball=$3; requirements=$4; index=$5; settings=$6; facts=$7; lock=$8; static_root=$9; user=\${10}; log=\${11}; trusted=\${12}; shift 12
${LOAD_ENV}
dir=$releases/$id
as_app() { runuser -u "$user" -- "$@"; }
exec 9>>"$lock"
flock 9
if [ -e "$dir/.ready" ]; then rm -f "$tarball"; echo build=reused; exit 0; fi
mkdir -p "$(dirname "$log")"
: >"$log"
step=start
cleanup() {
  local code=$?
  if [ "$code" != 0 ]; then
    echo "build of $id failed at: $step (full output: $log on $(hostname)); last lines:"
    tail -n 40 "$log"
    as_app chmod -R u+w "$dir" 2>/dev/null || true
    as_app rm -rf "$dir" || true
  fi
}
trap cleanup EXIT
if [ -e "$dir" ]; then as_app chmod -R u+w "$dir"; as_app rm -rf "$dir"; fi
step="unpack the source"
as_app mkdir -p "$dir/src"
as_app tar -xzf - -C "$dir/src" <"$tarball" >>"$log" 2>&1
step="python3 -m venv --system-site-packages"
as_app python3 -m venv --system-site-packages --without-pip "$dir/venv" >>"$log" 2>&1
python=$dir/venv/bin/python
req_hash=
if [ -n "$requirements" ]; then
  step="pip install -r $requirements (index $index)"
  if [ ! -f "$dir/src/$requirements" ]; then echo "the project has no $requirements (django-ha:app.requirements)" >>"$log"; exit 1; fi
  if ! "$python" -m pip --version >>"$log" 2>&1; then echo "pip is not installed on $(hostname): the worker role installs python3-pip; re-run the bootstrap" >>"$log"; exit 1; fi
  req_hash=$(sha256sum <"$dir/src/$requirements" | cut -d' ' -f1)
  pip_index=(--index-url "$index")
  if [ -n "$trusted" ]; then pip_index+=(--trusted-host "$trusted"); fi
  as_app env HOME="$dir" PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 "$python" -m pip install "\${pip_index[@]}" -r "$dir/src/$requirements" >>"$log" 2>&1
fi
step="compile the bytecode"
as_app "$python" -m compileall -q "$dir/src" >>"$log" 2>&1
load_env "$@"
export DJANGO_SETTINGS_MODULE=$settings DJANGO_HA_RELEASE=$id DJANGO_HA_RELEASE_DIR=$dir
step="django check (settings $settings)"
(cd "$dir/src" && as_app "$python" -m django check) >>"$log" 2>&1
manifest=
if (cd "$dir/src" && as_app "$python" -m django help collectstatic) >/dev/null 2>&1; then
  step="collectstatic into $static_root"
  (cd "$dir/src" && as_app "$python" -m django collectstatic --noinput) >>"$log" 2>&1
  # A project that keeps its manifest in the release (manifest_storage: DJANGO_HA_RELEASE_DIR) wrote it there;
  # otherwise the release keeps a copy of the one collectstatic just wrote to the shared static root.
  if [ -f "$dir/staticfiles.json" ]; then manifest=staticfiles.json
  elif [ -f "$static_root/staticfiles.json" ]; then as_app cp "$static_root/staticfiles.json" "$dir/staticfiles.json"; manifest=staticfiles.json; fi
fi
step="release.json"
as_app "$python" - "$dir/release.json" "$id" "$facts" "$req_hash" "$index" "$manifest" <<'PY'
import datetime, hashlib, json, os, sys
path, rid, facts, req_hash, index, manifest = sys.argv[1:7]
data = {"id": rid, **json.loads(facts), "builtAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "builtOn": os.uname().nodename, "python": sys.version.split()[0], "requirementsHash": req_hash or None, "pythonIndexUrl": index}
if manifest:
    with open(os.path.join(os.path.dirname(path), manifest), "rb") as f:
        data["staticManifest"] = {"file": manifest, "sha256": hashlib.sha256(f.read()).hexdigest()}
else:
    data["staticManifest"] = None
with open(path + ".new", "w") as f:
    json.dump(data, f, indent=2)
    f.write("\\n")
os.replace(path + ".new", path)
PY
as_app chmod -R a-w "$dir/src"
as_app touch "$dir/.ready"
rm -f "$tarball"
step=finished
echo build=done`;

/** `migrate --noinput` with release $1's venv and src, as the app user, under the migration lock $3. */
export const MIGRATE = `set -euo pipefail
dir=$1; settings=$2; lock=$3; user=$4; shift 4
${LOAD_ENV}
load_env "$@"
export DJANGO_SETTINGS_MODULE=$settings DJANGO_HA_RELEASE=\${dir##*/} DJANGO_HA_RELEASE_DIR=$dir
cd "$dir/src"
if ! out=$(runuser -u "$user" -- flock "$lock" "$dir/venv/bin/python" -m django migrate --noinput 2>&1); then
  echo "migrate with \${dir##*/} failed; last lines:"
  printf '%s\\n' "$out" | tail -n 30
  exit 1
fi
printf '%s\\n' "$out" | tail -n 3`;

/** Point the share's `current` ($1) at release id $2 (a relative link, renamed into place), as the app user $3. */
export const SET_CURRENT = `set -euo pipefail
current=$1; id=$2; user=$3
runuser -u "$user" -- ln -sfn "$id" "$current.new"
runuser -u "$user" -- mv -T "$current.new" "$current"
echo "current=$id"`;

// -------------------------------------------------------------------------------------- what roles install

/** What roles need of the stack's app (model/app.ts AppSpec, django-ha:app). */
export type ReleaseAppRoles = Pick<
  AppSpec,
  "wsgiModule" | "settingsModule" | "requirements" | "celeryApp" | "celeryQueues" | "healthPath" | "pythonIndexUrl"
>;

/** On the worker: the project as the bootstrap uploads it (the first release is built from it). */
export const BOOTSTRAP_SOURCE = "/var/lib/django-ha/source";
/** Its content hash, written by the upload (ops/bootstrap/commands.ts uploadHashFile, checked by a test). */
export const BOOTSTRAP_SOURCE_HASH = "/var/lib/django-ha/.source.django-ha-sha256";

type Script = { kind: "script"; name: string; script: string };

function releaseScript(name: string, description: string, body: string): Script {
  return { kind: "script", name, script: bashScript(description, body) };
}

/**
 * The bootstrap's app step, on the worker: when the share has no finished current release, build the first one
 * from the uploaded project with the deploy's own programs (build, migrate, current). Later releases come from
 * `npm run deploy`; this script then does nothing.
 */
export function firstReleaseScript(app: ReleaseAppRoles, user: string, staticRoot: string): Script {
  const args = (...xs: string[]) => xs.map(shellQuote).join(" ");
  return releaseScript(
    "first-release",
    "the first release, built on this node when the share has none",
    `current=${shellQuote(RELEASE_PATHS.shareCurrent)}
if [ -e "$current/.ready" ]; then exit 0; fi
hash=$(cat ${shellQuote(BOOTSTRAP_SOURCE_HASH)})
id="$(date -u +%Y%m%d%H%M%S)-\${hash:0:12}"
mkdir -p ${shellQuote(RELEASE_PATHS.incoming)}
tarball=${shellQuote(RELEASE_PATHS.incoming)}/first-release.tar.gz
tar -C ${shellQuote(BOOTSTRAP_SOURCE)} --sort=name --owner=0 --group=0 --numeric-owner -czf "$tarball" .
facts=$(printf '{"source": "bootstrap upload", "sourceHash": "%s"}' "$hash")
bash -c ${shellQuote(BUILD)} django-ha-release ${args(RELEASE_PATHS.releases)} "$id" "$tarball" ${args(app.requirements ?? "", app.pythonIndexUrl, app.settingsModule)} "$facts" ${args(RELEASE_PATHS.buildLock, staticRoot, user)} "/var/log/django-ha/release-$id.log" ${args(trustedHost(app.pythonIndexUrl), ...APP_ENV_FILES)}
bash -c ${shellQuote(MIGRATE)} django-ha-release ${shellQuote(RELEASE_PATHS.releases)}/"$id" ${args(app.settingsModule, RELEASE_PATHS.migrateLock, user, ...APP_ENV_FILES)}
bash -c ${shellQuote(SET_CURRENT)} django-ha-release ${args(RELEASE_PATHS.shareCurrent)} "$id" ${args(user)}
changed`,
  );
}

/**
 * This node's own link: a new node (or one whose release is gone) starts on the share's current release.
 * A link to a finished release is left alone: only deploy and rollback move it.
 */
export function releaseLinkScript(): Script {
  return releaseScript(
    "release-link",
    `${RELEASE_PATHS.nodeCurrent}: the release this node runs`,
    `link=${shellQuote(RELEASE_PATHS.nodeCurrent)}
if [ -e "$link/.ready" ]; then exit 0; fi
target=$(readlink -f ${shellQuote(RELEASE_PATHS.shareCurrent)} || true)
if [ -z "$target" ] || [ ! -e "$target/.ready" ]; then
  echo "the share has no finished release (${RELEASE_PATHS.shareCurrent}): the worker builds the first one in the bootstrap (see its report), later ones come from npm run deploy" >&2
  exit 1
fi
mkdir -p "$(dirname "$link")"
ln -sfn "$target" "$link.new"
mv -T "$link.new" "$link"
changed`,
  );
}

/** The WSGI loader and the release launcher, on every child and the worker. */
export function releaseFiles(): { kind: "file"; file: { path: string; content: string; mode: string; owner: string; group: string } }[] {
  return [
    { kind: "file", file: { path: RELEASE_PATHS.wsgiLoader, content: renderWsgiLoader(), mode: "0644", owner: "root", group: "root" } },
    { kind: "file", file: { path: RELEASE_PATHS.python, content: renderReleasePython(), mode: "0755", owner: "root", group: "root" } },
  ];
}

/** pip's --trusted-host for a plain-http index (model/app.ts pipIndexOptions), else "". */
export function trustedHost(indexUrl: string): string {
  const o = pipIndexOptions(indexUrl);
  const i = o.indexOf("--trusted-host");
  return i < 0 ? "" : o[i + 1];
}
