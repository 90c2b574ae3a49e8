/**
 * Point the cluster at the new primary: the primary name's hosts block on every node (a rendered script), and the
 * app's clients reconnecting (the database host list, the share's mount, uWSGI's chain reload, Celery's warm restart).
 */
import * as net from "node:net";
import type { Argv } from "../../../roles/shell";
import { fixed } from "./program";

/**
 * The app's DB_HOSTS and DATABASE_URL's host list, new primary first ($env_file, $db_hosts): libpq tries the hosts
 * in order with a 3 s connect timeout, so with the old primary first every new connection would wait on a dead
 * address until the next bootstrap. The lines written are the ones the roles render for the new inventory
 * (roles/files/appenv.ts: in DATABASE_URL the hosts are what lies between its only '@' and the next '/', each
 * with DB_PORT, IPv6 in brackets); mode and owner are kept.
 */
const APP_DB_HOSTS = `if [ -f "$env_file" ]; then
  port=$(sed -n 's/^DB_PORT=//p' "$env_file"); port=\${port:-5432}
  url_hosts=""
  IFS=, read -ra hosts <<<"$db_hosts"
  for h in "\${hosts[@]}"; do case $h in *:*) h="[$h]" ;; esac; url_hosts+="\${url_hosts:+,}$h:$port"; done
  url_line=$(grep '^DATABASE_URL=' "$env_file" || true)
  if ! grep -qxF "DB_HOSTS=$db_hosts" "$env_file" || { [ -n "$url_line" ] && [[ $url_line != *"@$url_hosts/"* ]]; }; then
    tmp=$(mktemp "$env_file.XXXXXX")
    chmod --reference="$env_file" "$tmp"; chown --reference="$env_file" "$tmp"
    sed -e "s|^DB_HOSTS=.*|DB_HOSTS=$db_hosts|" -e "s|^\\(DATABASE_URL=[^@]*@\\)[^/]*|\\1$url_hosts|" "$env_file" > "$tmp"
    mv -f "$tmp" "$env_file"
    echo changed=db-hosts
  fi
fi`;

/** DB_HOSTS as renderAppEnv writes it: addresses only (they travel into a sed expression). */
function dbHostsValue(dbHosts: string[]): string {
  for (const h of dbHosts)
    if (net.isIP(h) === 0) throw new Error(`DB host ${JSON.stringify(h)} is not an IP address: the inventory's privateAddress must be one`);
  return dbHosts.join(",");
}

/**
 * Make a child's app use the new primary: a mount of the share from the old server is detached (lazily; the
 * automount mounts it again from primary.<cluster>.internal on the next access) and uWSGI chain-reloads
 * ($1 = its unit): workers are replaced one by one, each opens new connections; requests keep being served.
 */
const RECONNECT_CHILD = `set -euo pipefail
share=$1; unit=$2; env_file=$3; db_hosts=$4
${APP_DB_HOSTS}
if findmnt -t nfs,nfs4 -M "$share" >/dev/null 2>&1; then umount -f -l "$share" && echo changed=share-remount; fi
if systemctl is-active --quiet "$unit"; then systemctl reload "$unit" && echo changed=uwsgi-chain-reload; fi`;

export function reconnectChild(share: string, uwsgiUnit: string, appEnv: string, dbHosts: string[]): Argv {
  return fixed(RECONNECT_CHILD, share, uwsgiUnit, appEnv, dbHostsValue(dbHosts));
}

/**
 * The worker: the share as on a child, then a warm restart of Celery without waiting for it ($2 = unit):
 * the running job finishes first (SIGTERM to the main process), queued jobs stay in the broker, which is the
 * promoted Redis replica; the new process connects to primary.<cluster>.internal.
 */
const RECONNECT_WORKER = `set -euo pipefail
share=$1; unit=$2; env_file=$3; db_hosts=$4
${APP_DB_HOSTS}
if findmnt -t nfs,nfs4 -M "$share" >/dev/null 2>&1; then umount -f -l "$share" && echo changed=share-remount; fi
if systemctl is-active --quiet "$unit"; then systemctl restart --no-block "$unit" && echo changed=celery-warm-restart; fi`;

export function reconnectWorker(share: string, celeryUnit: string, appEnv: string, dbHosts: string[]): Argv {
  return fixed(RECONNECT_WORKER, share, celeryUnit, appEnv, dbHostsValue(dbHosts));
}

/** Run a rendered script (a roles/ ScriptAction's text) that prints its changed marker. */
export function runRendered(script: string): Argv {
  return ["bash", "-c", script];
}
