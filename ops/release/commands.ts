/**
 * What deploy, rollback and maintenance run on the nodes: fixed bash programs that take their data as
 * positional arguments, built as argv arrays (quoted in one place, ops/ssh), plus parsers for what they print.
 * Nothing here runs anything. Tested by equality, shellcheck, and by running them against a temp tree.
 */
import type { Argv } from "../../roles/shell";
import { BUILD, LOAD_ENV, MIGRATE, SET_CURRENT, trustedHost } from "../../roles/release";
import { isReleaseId, type ReleaseInfo } from "./release";

const FIXED = (program: string, ...args: string[]): Argv => ["bash", "-c", program, "django-ha-release", ...args];

// ------------------------------------------------------------------------------------------------ status

/**
 * What the share and this node hold: `share_current=`, `node_current=`, one `release=<id> ready=0|1 failed=0|1
 * source=<hash>` line per release directory, `maintenance=0|1`, `read_only=0|1`. Never fails.
 */
const STATUS = `set -uo pipefail
releases=$1; link=$2; current=$3; maintenance=$4; read_only=$5
target=$(readlink "$current" 2>/dev/null || true)
printf 'share_current=%s\\n' "\${target##*/}"
target=$(readlink "$link" 2>/dev/null || true)
printf 'node_current=%s\\n' "\${target##*/}"
for d in "$releases"/*/; do
  id=\${d%/}; id=\${id##*/}
  [[ $id =~ ^[0-9]{14}-[0-9a-f]{12}$ ]] || continue
  ready=0; failed=0
  if [ -e "$d.ready" ]; then ready=1; fi
  if [ -e "$d.failed" ]; then failed=1; fi
  source=$(sed -n 's/^ *"sourceHash": *"\\([0-9a-f]*\\)".*/\\1/p' "$d/release.json" 2>/dev/null | head -n 1)
  printf 'release=%s ready=%s failed=%s source=%s\\n' "$id" "$ready" "$failed" "$source"
done
if [ -e "$maintenance" ]; then echo maintenance=1; else echo maintenance=0; fi
if [ -e "$read_only" ]; then echo read_only=1; else echo read_only=0; fi`;

export interface StatusPaths {
  releases: string;
  nodeCurrent: string;
  shareCurrent: string;
  maintenanceFlag: string;
  readOnlyFlag: string;
}

export function releaseStatus(p: StatusPaths): Argv {
  return FIXED(STATUS, p.releases, p.nodeCurrent, p.shareCurrent, p.maintenanceFlag, p.readOnlyFlag);
}

export interface ReleaseStatus {
  shareCurrent?: string;
  nodeCurrent?: string;
  releases: ReleaseInfo[];
  maintenance: boolean;
  readOnly: boolean;
}

/** Parse STATUS output. Pure. */
export function parseReleaseStatus(stdout: string): ReleaseStatus {
  const s: ReleaseStatus = { releases: [], maintenance: false, readOnly: false };
  for (const line of stdout.split("\n")) {
    const kv = /^([a-z_]+)=(.*)$/.exec(line.trim());
    if (!kv) continue;
    const [, key, value] = kv;
    if (key === "share_current") s.shareCurrent = isReleaseId(value) ? value : undefined;
    else if (key === "node_current") s.nodeCurrent = isReleaseId(value) ? value : undefined;
    else if (key === "maintenance") s.maintenance = value === "1";
    else if (key === "read_only") s.readOnly = value === "1";
    else if (key === "release") {
      const m = /^(\S+) ready=([01]) failed=([01]) source=([0-9a-f]*)$/.exec(value);
      if (m && isReleaseId(m[1]))
        s.releases.push({ id: m[1], ready: m[2] === "1", failed: m[3] === "1", ...(m[4] ? { sourceHash: m[4] } : {}) });
    }
  }
  return s;
}

// ------------------------------------------------------------------------------------------------- build

export interface BuildArgs {
  releases: string;
  id: string;
  tarball: string;
  /** Path inside the project, or "" for none. */
  requirements: string;
  pythonIndexUrl: string;
  settingsModule: string;
  /** What the operator's machine knows (source, ref, commit, sourceHash), stored in release.json. */
  facts: Record<string, unknown>;
  buildLock: string;
  staticRoot: string;
  user: string;
  log: string;
  envFiles: readonly string[];
}

export function buildRelease(a: BuildArgs): Argv {
  return FIXED(
    BUILD,
    a.releases,
    a.id,
    a.tarball,
    a.requirements,
    a.pythonIndexUrl,
    a.settingsModule,
    JSON.stringify(a.facts),
    a.buildLock,
    a.staticRoot,
    a.user,
    a.log,
    trustedHost(a.pythonIndexUrl),
    ...a.envFiles,
  );
}

// ----------------------------------------------------------------------------------------------- migrate

export function migrate(releaseDir: string, settingsModule: string, lock: string, user: string, envFiles: readonly string[]): Argv {
  return FIXED(MIGRATE, releaseDir, settingsModule, lock, user, ...envFiles);
}

// ---------------------------------------------------------------------------------------------- candidate

/**
 * Before a child switches: a one-process uWSGI on release $1 (the same WSGI loader the node's uWSGI uses,
 * pinned to that release), on a private socket, as the app user; its health path $5 must answer 200 and name
 * release $2 in header $10 within $7 seconds. No visitor ever reaches it. Prints `candidate=healthy`, or
 * `candidate=unhealthy` with the answer and uWSGI's last lines (exit 1).
 */
const CANDIDATE = `set -uo pipefail
dir=$1; id=$2; wsgi=$3; settings=$4; health=$5; host=$6; timeout=$7; user=$8; libdir=$9; header=\${10}; module=\${11}; shift 11
${LOAD_ENV}
load_env "$@"
export DJANGO_SETTINGS_MODULE=$settings DJANGO_HA_RELEASE_DIR=$dir DJANGO_HA_WSGI=$wsgi
tmp=$(mktemp -d /tmp/django-ha-candidate.XXXXXX)
chown "$user" "$tmp"
sock=$tmp/http.sock
uwsgi --plugins python3 --master --processes 1 --need-app --die-on-term --single-interpreter --enable-threads \\
  --uid "$user" --gid "$user" --chdir /tmp --pythonpath "$libdir" --module "$module:application" \\
  --http-socket "$sock" --logto "$tmp/uwsgi.log" &
pid=$!
ok=0; code=none
deadline=$((SECONDS + timeout))
while [ "$SECONDS" -lt "$deadline" ]; do
  if ! kill -0 "$pid" 2>/dev/null; then code="uWSGI exited"; break; fi
  if [ -S "$sock" ]; then
    code=$(curl -sS -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' --max-time 10 --unix-socket "$sock" \\
      -H "Host: $host" -H "X-Forwarded-Proto: https" "http://$host$health" 2>&1) || true
    if [ "$code" = 200 ] && tr -d '\\r' <"$tmp/head" | grep -qix "$header: $id"; then ok=1; break; fi
  fi
  sleep 0.5
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
if [ "$ok" = 1 ]; then
  echo candidate=healthy
  rm -rf "$tmp"
  exit 0
fi
echo candidate=unhealthy
echo "$health on release $id (candidate uWSGI, never in service): $code"
if [ -f "$tmp/body" ]; then head -c 400 "$tmp/body"; echo; fi
echo "uWSGI's last lines:"
tail -n 25 "$tmp/uwsgi.log" 2>/dev/null
rm -rf "$tmp"
exit 1`;

export interface CandidateArgs {
  releaseDir: string;
  id: string;
  wsgiModule: string;
  settingsModule: string;
  healthPath: string;
  host: string;
  timeoutSeconds: number;
  user: string;
  libDir: string;
  header: string;
  loaderModule: string;
  envFiles: readonly string[];
}

export function candidateHealth(a: CandidateArgs): Argv {
  return FIXED(
    CANDIDATE,
    a.releaseDir,
    a.id,
    a.wsgiModule,
    a.settingsModule,
    a.healthPath,
    a.host,
    String(a.timeoutSeconds),
    a.user,
    a.libDir,
    a.header,
    a.loaderModule,
    ...a.envFiles,
  );
}

// ------------------------------------------------------------------------------------------- switch child

/** uWSGI's workers from its stats socket: `<pid> <accepting>` per line. */
const UWSGI_WORKERS = `workers() {
  python3 - "$1" <<'PY' 2>/dev/null
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
for w in json.loads(data).get("workers", []):
    print(w.get("pid"), w.get("accepting"))
PY
}`;

/**
 * Point this child's link $1 at release $2 (id $3) — with the release's static manifest in the static root $13 —,
 * chain-reload uWSGI $4 (workers replaced one at a time,
 * lazy-apps: each new one loads the new release), then wait up to $11 s until every worker is a new one and
 * accepting, and the health path $6 through nginx on this child answers 200 naming $3 in header $12.
 * Prints `previous=<id>` first, then `switched=ok`, or the reason (exit 1; the link stays moved: the caller
 * switches it back).
 */
const SWITCH_CHILD = `set -uo pipefail
link=$1; dir=$2; id=$3; unit=$4; stats=$5; health=$6; fqdn=$7; port=$8; fullchain=$9; self_signed=\${10}; timeout=\${11}; header=\${12}; static_root=\${13}; user=\${14}
${UWSGI_WORKERS}
previous=$(readlink "$link" 2>/dev/null || true)
printf 'previous=%s\\n' "\${previous##*/}"
before=" $(workers "$stats" | cut -d' ' -f1 | tr '\\n' ' ')"
# Django reads its static manifest from the shared static root when a process starts: it must be the manifest of
# the release the workers start on (after a rollback, the older one's; renamed into place, whole or not at all).
if [ -f "$dir/staticfiles.json" ] && ! cmp -s "$dir/staticfiles.json" "$static_root/staticfiles.json"; then
  runuser -u "$user" -- cp "$dir/staticfiles.json" "$static_root/.staticfiles.json.django-ha"
  runuser -u "$user" -- mv -f "$static_root/.staticfiles.json.django-ha" "$static_root/staticfiles.json"
fi
mkdir -p "$(dirname "$link")"
ln -sfn "$dir" "$link.new"
mv -T "$link.new" "$link"
if systemctl is-active --quiet "$unit"; then systemctl reload "$unit"; else systemctl restart "$unit"; fi
trust=()
if [ -f "$self_signed" ]; then trust=(--cacert "$fullchain"); fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
workers_ok=0; health_ok=0; code=none; now=
deadline=$((SECONDS + timeout))
while [ "$SECONDS" -lt "$deadline" ]; do
  now=$(workers "$stats")
  workers_ok=1
  if [ -z "$now" ]; then workers_ok=0; fi
  while read -r pid accepting; do
    [ -n "$pid" ] || continue
    if [[ $before == *" $pid "* ]] || [ "$accepting" != 1 ]; then workers_ok=0; fi
  done <<<"$now"
  code=$(curl -sS "\${trust[@]}" -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' --max-time 10 --resolve "$fqdn:$port:127.0.0.1" "https://$fqdn:$port$health" 2>&1) || true
  health_ok=0
  if [ "$code" = 200 ] && tr -d '\\r' <"$tmp/head" | grep -qix "$header: $id"; then health_ok=1; fi
  if [ "$workers_ok" = 1 ] && [ "$health_ok" = 1 ]; then echo switched=ok; exit 0; fi
  sleep 0.3
done
echo "not healthy on $id within $timeout s:"
echo "  uWSGI workers (pid accepting), before the reload:$before; now: $(printf '%s' "$now" | tr '\\n' ';')"
echo "  $health through nginx: HTTP $code, release $(tr -d '\\r' <"$tmp/head" 2>/dev/null | grep -i "^$header:" | cut -d' ' -f2)"
exit 1`;

export interface SwitchChildArgs {
  link: string;
  releaseDir: string;
  id: string;
  unit: string;
  statsSocket: string;
  healthPath: string;
  fqdn: string;
  httpsPort: number;
  fullchain: string;
  selfSigned: string;
  timeoutSeconds: number;
  header: string;
  /** The shared static root: the release's own static manifest is put there before the reload. */
  staticRoot: string;
  user: string;
}

export function switchChild(a: SwitchChildArgs): Argv {
  return FIXED(
    SWITCH_CHILD,
    a.link,
    a.releaseDir,
    a.id,
    a.unit,
    a.statsSocket,
    a.healthPath,
    a.fqdn,
    String(a.httpsPort),
    a.fullchain,
    a.selfSigned,
    String(a.timeoutSeconds),
    a.header,
    a.staticRoot,
    a.user,
  );
}

// ------------------------------------------------------------------------------------------ switch worker

/**
 * Point the worker's link $1 at release $2 (id $3), then warm-restart Celery $4 (empty: no Celery app): systemd
 * sends SIGTERM to the main process only, which finishes its running job and exits; the new process starts on
 * the new release. Waits up to $5 s for it. Prints `previous=<id>`, then `celery=restarted`, `celery=none`, or
 * `celery=finishing` (still finishing its job: it starts on the new release when that ends; no job is lost).
 */
const SWITCH_WORKER = `set -uo pipefail
link=$1; dir=$2; id=$3; unit=$4; wait_seconds=$5
previous=$(readlink "$link" 2>/dev/null || true)
printf 'previous=%s\\n' "\${previous##*/}"
mkdir -p "$(dirname "$link")"
ln -sfn "$dir" "$link.new"
mv -T "$link.new" "$link"
if [ -z "$unit" ] || ! systemctl is-enabled --quiet "$unit" 2>/dev/null; then echo celery=none; exit 0; fi
old=$(systemctl show -p MainPID --value "$unit")
systemctl restart --no-block "$unit"
deadline=$((SECONDS + wait_seconds))
while [ "$SECONDS" -lt "$deadline" ]; do
  pid=$(systemctl show -p MainPID --value "$unit")
  if [ "$pid" != 0 ] && [ "$pid" != "$old" ] && systemctl is-active --quiet "$unit" && tr '\\0' '\\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "DJANGO_HA_RELEASE=$id"; then
    echo celery=restarted
    exit 0
  fi
  sleep 0.5
done
echo celery=finishing`;

export function switchWorker(link: string, releaseDir: string, id: string, celeryUnit: string, waitSeconds: number): Argv {
  return FIXED(SWITCH_WORKER, link, releaseDir, id, celeryUnit, String(waitSeconds));
}

/** `previous=<id>` of the switch programs. Pure. */
export function parsePrevious(stdout: string): string | undefined {
  const m = /^previous=(.*)$/m.exec(stdout);
  return m && isReleaseId(m[1]) ? m[1] : undefined;
}

// ------------------------------------------------------------------------------------ current, failed, prune

export function setShareCurrent(current: string, id: string, user: string): Argv {
  return FIXED(SET_CURRENT, current, id, user);
}

/** Mark release dir $1 unhealthy (`.failed` holding the reason $3), as the app user $2: rollbacks never pick it. */
const MARK_FAILED = `set -euo pipefail
dir=$1; user=$2; reason=$3
printf '%s\\n' "$reason" | runuser -u "$user" -- tee "$dir/.failed" >/dev/null`;

export function markFailed(releaseDir: string, user: string, reason: string): Argv {
  return FIXED(MARK_FAILED, releaseDir, user, reason);
}

/** Delete the named releases of $1 under the build lock $2, as the app user $3 (src is read-only: made writable first). */
const PRUNE = `set -euo pipefail
releases=$1; lock=$2; user=$3; shift 3
exec 9>>"$lock"
flock 9
for id in "$@"; do
  [[ $id =~ ^[0-9]{14}-[0-9a-f]{12}$ ]] || { echo "not a release id: $id" >&2; exit 1; }
  if [ -e "$releases/$id" ]; then
    runuser -u "$user" -- chmod -R u+w "$releases/$id"
    runuser -u "$user" -- rm -rf "\${releases:?}/$id"
    echo "deleted=$id"
  fi
done`;

export function pruneReleases(releases: string, lock: string, user: string, ids: string[]): Argv {
  return FIXED(PRUNE, releases, lock, user, ...ids);
}

// ------------------------------------------------------------------------------------------ maintenance

/**
 * Set the flags in $1 as the app user $2: maintenance $3 (1/0), read-only $4 (1/0). A flag is written to a temp
 * name and renamed (nginx sees it whole or not at all). Prints `maintenance=…` and `read_only=…`.
 */
const SET_FLAGS = `set -euo pipefail
dir=$1; user=$2; maintenance=$3; read_only=$4
runuser -u "$user" -- mkdir -p "$dir"
flag() {
  local file=$dir/$1 on=$2
  if [ "$on" = 1 ]; then
    if [ ! -e "$file" ]; then
      date -u +%Y-%m-%dT%H:%M:%SZ | runuser -u "$user" -- tee "$file.new" >/dev/null
      runuser -u "$user" -- mv -f "$file.new" "$file"
    fi
  else
    runuser -u "$user" -- rm -f "$file"
  fi
}
flag maintenance "$maintenance"
flag read-only "$read_only"
echo "maintenance=$maintenance"
echo "read_only=$read_only"`;

export function setFlags(flagsDir: string, user: string, flags: { maintenance: boolean; readOnly: boolean }): Argv {
  return FIXED(SET_FLAGS, flagsDir, user, flags.maintenance ? "1" : "0", flags.readOnly ? "1" : "0");
}

/**
 * What this child's nginx answers right now for a GET and a POST of $4 (a path no app serves on purpose):
 * `get=<status> <mode>` and `post=<status> <mode>`, where mode is nginx's X-Django-HA-Mode header (maintenance,
 * read-only) or `app`.
 */
const MODE_PROBE = `set -uo pipefail
fqdn=$1; port=$2; fullchain=$3; self_signed=$4; path=$5; header=$6
trust=()
if [ -f "$self_signed" ]; then trust=(--cacert "$fullchain"); fi
probe() {
  local out code mode
  out=$(curl -sS "\${trust[@]}" -o /dev/null -D - -w 'code=%{http_code}' --max-time 10 -X "$1" --resolve "$fqdn:$port:127.0.0.1" "https://$fqdn:$port$path" 2>&1 | tr -d '\\r') || true
  code=$(printf '%s\\n' "$out" | sed -n 's/^code=//p')
  mode=$(printf '%s\\n' "$out" | grep -i "^$header:" | head -n 1 | cut -d' ' -f2)
  printf '%s %s' "\${code:-none}" "\${mode:-app}"
}
echo "get=$(probe GET)"
echo "post=$(probe POST)"`;

export interface ModeProbeArgs {
  fqdn: string;
  httpsPort: number;
  /** The certificate nginx serves, trusted when `selfSigned` marks it as the bootstrap's own. */
  fullchain: string;
  selfSigned: string;
  probePath: string;
  /** The header nginx names the mode in. */
  header: string;
}

export function modeProbe(a: ModeProbeArgs): Argv {
  return FIXED(MODE_PROBE, a.fqdn, String(a.httpsPort), a.fullchain, a.selfSigned, a.probePath, a.header);
}

export interface ModeAnswer {
  get: { status: string; mode: string };
  post: { status: string; mode: string };
}

/** Parse MODE_PROBE output. Pure. */
export function parseModeProbe(stdout: string): ModeAnswer {
  const pick = (key: string) => {
    const m = new RegExp(`^${key}=(\\S+) (\\S+)$`, "m").exec(stdout);
    return m ? { status: m[1], mode: m[2] } : { status: "none", mode: "app" };
  };
  return { get: pick("get"), post: pick("post") };
}
