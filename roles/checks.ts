/** Health checks per role: bash scripts that exit 0 when healthy (retried by ops while services warm up). */
import { DB, PATHS, PORTS } from "./context";
import { bashCheck, heredoc, shellQuote as q } from "./shell";
import type { Check } from "./types";
import { RELEASE_PATHS } from "./release";

function check(name: string, body: string, attempts?: number): Check {
  return attempts === undefined ? { name, script: bashCheck(name, body) } : { name, script: bashCheck(name, body), attempts };
}

const psql = `psql_pg() { runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 "$@"; }`;

export function postgresAcceptingCheck(address: string): Check {
  return check("postgres accepting", `${PATHS.pgBin}/pg_isready -q -h ${q(address)} -p ${PORTS.postgres}`);
}

export function slotExistsCheck(): Check {
  return check(
    "replication slot exists",
    `${psql}
[ "$(psql_pg -c "select count(*) from pg_replication_slots where slot_name = '${DB.slot}' and slot_type = 'physical'")" = 1 ]`,
  );
}

export function ganeshaListeningCheck(exportUrl: string): Check {
  return check(
    "nfs-ganesha serving the share",
    `ss -Hltn 'sport = :${PORTS.nfs}' | grep -q LISTEN
nfs-ls ${q(exportUrl)} >/dev/null`,
  );
}

/** The password is read from redis.conf on the node, so it never appears in a command line. */
const redisAuth = `REDISCLI_AUTH=$(sed -n 's/^requirepass "\\(.*\\)"$/\\1/p' /etc/redis/redis.conf)
export REDISCLI_AUTH`;

export function redisPingCheck(address: string): Check {
  return check(
    "redis answers PING with auth",
    `${redisAuth}
[ "$(redis-cli --no-auth-warning -h ${q(address)} -p ${PORTS.redis} ping)" = PONG ]`,
  );
}

export function redisReplicaCheck(): Check {
  return check(
    "redis replica linked to the primary",
    `${redisAuth}
redis-cli --no-auth-warning -h 127.0.0.1 -p ${PORTS.redis} info replication | tr -d '\\r' | grep -qx 'master_link_status:up'`,
  );
}

export function standbyStreamingCheck(primaryAddress: string): Check {
  return check(
    "postgres standby streaming",
    `${psql}
[ "$(psql_pg -c 'select pg_is_in_recovery()')" = t ]
[ "$(psql_pg -c "select count(*) from pg_stat_wal_receiver where status = 'streaming' and sender_host = '${primaryAddress}'")" = 1 ]`,
  );
}

export function exportReachableCheck(exportUrl: string): Check {
  return check("share export reachable over NFS (libnfs)", `nfs-ls ${q(exportUrl)} >/dev/null`);
}

export function shareMountedCheck(): Check {
  return check(
    "share present at /srv/share, this node's release finished",
    `test -d ${q(`${PATHS.share}/releases`)}
test -e ${q(`${RELEASE_PATHS.nodeCurrent}/.ready`)}`,
  );
}

/** The app's /health/ straight over the uWSGI socket (uwsgi protocol, spoken by a few lines of python3). */
export function uwsgiHealthCheck(fqdn: string, healthPath = "/health/"): Check {
  const client = `import json, socket, struct, sys
sock_path, host, health = sys.argv[1], sys.argv[2], sys.argv[3]
env = {"REQUEST_METHOD": "GET", "PATH_INFO": health, "QUERY_STRING": "", "SERVER_NAME": host, "SERVER_PORT": "443",
       "HTTP_HOST": host, "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTPS": "on", "wsgi.url_scheme": "https",
       "HTTP_X_FORWARDED_PROTO": "https"}
body = b"".join(struct.pack("<H", len(k)) + k.encode() + struct.pack("<H", len(v)) + v.encode() for k, v in env.items())
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sock_path)
s.sendall(struct.pack("<BHB", 0, len(body), 0) + body)
resp = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    resp += chunk
head, _, payload = resp.partition(b"\\r\\n\\r\\n")
status = head.split(b"\\r\\n", 1)[0].decode(errors="replace")
if " 200 " not in status + " ":
    sys.exit(f"{health} over uWSGI: {status} {payload[:300]!r}")`;
  return check(
    `app ${healthPath} over the uWSGI socket (200 = healthy)`,
    `python3 - ${q(PATHS.uwsgiSocket)} ${q(fqdn)} ${q(healthPath)} ${heredoc("PY", client)}`,
  );
}

/**
 * /health/ through nginx with the certificate verified: the placeholder against itself (the only thing that
 * can vouch for it), a real certificate against the system trust store. Never -k.
 */
export function nginxHealthCheck(fqdn: string, tls: { fullchain: string; selfSigned: string }, healthPath = "/health/"): Check {
  return check(
    `app ${healthPath} through nginx on 443 (certificate verified: the placeholder by itself, an ACME one by the system trust store)`,
    `trust=()
if [ -f ${q(tls.selfSigned)} ]; then trust=(--cacert ${q(tls.fullchain)}); fi
[ "$(curl -sS "\${trust[@]}" -o /dev/null -w '%{http_code}' --max-time 10 --resolve ${q(`${fqdn}:${PORTS.https}:127.0.0.1`)} ${q(`https://${fqdn}${healthPath}`)})" = 200 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --resolve ${q(`${fqdn}:${PORTS.http}:127.0.0.1`)} ${q(`http://${fqdn}${healthPath}`)})" = 301 ]`,
  );
}

export function unitActiveCheck(unit: string): Check {
  return check(`${unit} active`, `systemctl is-active --quiet ${q(unit)}`);
}

export function celeryPingCheck(celeryApp: string): Check {
  return check(
    "celery worker answers inspect ping",
    `set -a
# shellcheck disable=SC1091
. ${PATHS.appEnv}
# shellcheck disable=SC1091
. ${PATHS.appSecretsEnv}
set +a
runuser -u django -- ${RELEASE_PATHS.python} -m celery -A ${q(celeryApp)} inspect ping --timeout 5 -d "worker@$(hostname)" >/dev/null`,
    20,
  );
}

export function sshdConfigCheck(): Check {
  return check("sshd config valid", "sshd -t");
}
