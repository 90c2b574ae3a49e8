/** Moving a node to a release: a child's candidate proves it healthy, then the child switches (link, chain reload, health through nginx); the worker switches and warm-restarts Celery. */
import type { Argv } from "../../../roles/shell";
import { LOAD_ENV } from "../../../roles/release";
import { isReleaseId } from "../release";
import { fixed } from "./program";

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
  return fixed(
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
  return fixed(
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
  return fixed(SWITCH_WORKER, link, releaseDir, id, celeryUnit, String(waitSeconds));
}

/** `previous=<id>` of the switch programs. Pure. */
export function parsePrevious(stdout: string): string | undefined {
  const m = /^previous=(.*)$/m.exec(stdout);
  return m && isReleaseId(m[1]) ? m[1] : undefined;
}
