/**
 * Script actions as data: each builder returns a named, idempotent bash script that prints CHANGED_MARKER
 * only when it changed the machine. Values are quoted by shellQuote; secrets travel in the script text
 * (never in argv), so ops must not print scripts.
 */
import { APP_USER, DB, PATHS } from "./context";
import { POSTGRES_UNIT } from "./db";
import { GUARD_SIGNAL_MARK } from "./guard";
import { DEBIAN_RELEASE, DEBIAN_SUITE } from "../model/debian";
import { HOSTS_BEGIN, HOSTS_END } from "./files/hosts";
import { bashScript, heredoc, shellQuote as q } from "./shell";
import type { Action } from "./types";

export type ScriptAction = Extract<Action, { kind: "script" }>;

function script(name: string, description: string, body: string): ScriptAction {
  return { kind: "script", name, script: bashScript(description, body) };
}

/**
 * First step on every node: the machine runs the Debian release the roles are written for (model/debian.ts),
 * else nothing is installed or changed. A `hosts` machine or an older cloud image on another release would
 * otherwise fail later, half-configured, on a package or path that release does not have.
 */
export function debianReleaseScript(): ScriptAction {
  return script(
    "debian-release",
    `Debian ${DEBIAN_RELEASE} (${DEBIAN_SUITE}) or nothing`,
    `# shellcheck source=/dev/null
. /etc/os-release
if [ "\${ID:-}" != debian ] || [ "\${VERSION_ID:-}" != ${DEBIAN_RELEASE} ]; then
  echo "this machine runs \${PRETTY_NAME:-an unknown system} (/etc/os-release), but django-ha's roles are written for Debian ${DEBIAN_RELEASE} (${DEBIAN_SUITE}): nothing was changed. Give this node a Debian ${DEBIAN_RELEASE} machine (hosts: reinstall it; clouds: the README section on Debian ${DEBIAN_RELEASE})." >&2
  exit 1
fi`,
  );
}

/** The `django` user and group with the same uid/gid everywhere (NFS sec=sys maps by number). */
export function appUserScript(extraGroupsFor: string[] = []): ScriptAction {
  const { name, uid, gid } = APP_USER;
  const joins = extraGroupsFor
    .map(
      (member) => `if id -u ${q(member)} >/dev/null 2>&1 && ! id -nG ${q(member)} | tr ' ' '\\n' | grep -qx ${name}; then
  usermod -aG ${name} ${q(member)}; changed
fi`,
    )
    .join("\n");
  return script(
    "app-user",
    `user ${name} ${uid}:${gid}`,
    `if getent group ${name} >/dev/null; then
  have=$(getent group ${name} | cut -d: -f3)
  if [ "$have" != ${gid} ]; then
    echo "group ${name} exists with gid $have, not ${gid}: NFS maps files by number, so every node needs gid ${gid}. Fix it (groupmod -g ${gid} ${name}) and re-run." >&2
    exit 1
  fi
else
  if getent group ${gid} >/dev/null; then echo "gid ${gid} is taken by group $(getent group ${gid} | cut -d: -f1); free it for ${name} and re-run." >&2; exit 1; fi
  groupadd --system --gid ${gid} ${name}; changed
fi
if id -u ${name} >/dev/null 2>&1; then
  have=$(id -u ${name})
  if [ "$have" != ${uid} ]; then
    echo "user ${name} exists with uid $have, not ${uid}: every node needs uid ${uid}. Fix it (usermod -u ${uid} ${name}) and re-run." >&2
    exit 1
  fi
else
  if getent passwd ${uid} >/dev/null; then echo "uid ${uid} is taken by $(getent passwd ${uid} | cut -d: -f1); free it for ${name} and re-run." >&2; exit 1; fi
  useradd --system --uid ${uid} --gid ${gid} --home-dir ${PATHS.stateDir}/home --no-create-home --shell /usr/sbin/nologin ${name}; changed
fi
${joins}`,
  );
}

/** Rewrite only the managed block of /etc/hosts (in place: /etc/hosts may be a bind mount). */
export function hostsBlockScript(block: string): ScriptAction {
  return script(
    "hosts-block",
    "managed /etc/hosts block",
    `block=$(cat ${heredoc("DJANGO_HA_BLOCK", block)}
)
current=$(cat /etc/hosts 2>/dev/null || true)
others=$(printf '%s\\n' "$current" | awk -v b=${q(HOSTS_BEGIN)} -v e=${q(HOSTS_END)} '$0 == b {skip = 1; next} $0 == e {skip = 0; next} !skip')
wanted=$(printf '%s\\n%s\\n' "$others" "$block")
if [ "$wanted" != "$current" ]; then
  printf '%s\\n' "$wanted" > /etc/hosts
  changed
fi`,
  );
}

/**
 * systemd-timesyncd on machines, nothing in containers (the lab): there the host keeps the clock and the
 * unit is condition-skipped, so "start it" would never stick and every run would report a change.
 */
export function timeSyncScript(): ScriptAction {
  return script(
    "time-sync",
    "systemd-timesyncd (not in containers)",
    `if systemd-detect-virt --container --quiet; then exit 0; fi
if ! systemctl is-enabled --quiet systemd-timesyncd; then systemctl enable systemd-timesyncd >/dev/null 2>&1; changed; fi
if ! systemctl is-active --quiet systemd-timesyncd; then systemctl start systemd-timesyncd; changed; fi`,
  );
}

/** Directories with owner and mode, created or corrected. */
export function directoriesScript(name: string, dirs: { path: string; owner: string; group: string; mode: string }[]): ScriptAction {
  const lines = dirs.map((d) => `ensure_dir ${q(d.path)} ${q(d.owner)} ${q(d.group)} ${q(d.mode)}`);
  return script(
    name,
    "directories",
    `ensure_dir() {
  local path=$1 owner=$2 group=$3 mode=$4
  if [ ! -d "$path" ]; then mkdir -p "$path"; changed; fi
  if [ "$(stat -c '%U:%G %04a' "$path")" != "$owner:$group $mode" ]; then
    chown "$owner:$group" "$path"; chmod "$mode" "$path"; changed
  fi
}
${lines.join("\n")}`,
  );
}

/** Remove files we no longer want (e.g. nginx's default site). */
export function removeFilesScript(name: string, paths: string[]): ScriptAction {
  return script(
    name,
    `remove ${paths.join(", ")}`,
    paths.map((p) => `if [ -e ${q(p)} ] || [ -L ${q(p)} ]; then rm -f ${q(p)}; changed; fi`).join("\n"),
  );
}

/**
 * The old layout's placeholder on the share (a self-signed certificate with its key in plain text, marked
 * SELF-SIGNED): removed, since the share now holds only what the ACME agent writes, keys encrypted. Children
 * serve their own placeholder from /etc/django-ha/tls until the first certificate.
 */
export function legacySharePlaceholderScript(certDir: string): ScriptAction {
  return script(
    "tls-share-placeholder-gone",
    "no plain-text placeholder key on the share",
    `dir=${q(certDir)}
if [ -f "$dir/SELF-SIGNED" ]; then
  rm -f "$dir/SELF-SIGNED" "$dir/privkey.pem" "$dir/fullchain.pem"
  changed
fi`,
  );
}

/** Shared prologue of the PostgreSQL scripts: psql as postgres, commits local-only (no wait on a standby not yet there). */
const psql = `export PGOPTIONS='-c synchronous_commit=local'
psql_pg() { runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 "$@"; }
wait_pg() {
  for _ in $(seq 1 60); do
    if runuser -u postgres -- ${PATHS.pgBin}/pg_isready -q; then return 0; fi
    sleep 1
  done
  echo "PostgreSQL did not accept connections within 60 s: see journalctl -u ${POSTGRES_UNIT}" >&2
  return 1
}`;

/** The app role and database, and the replication role; passwords reset only when they no longer work. */
export function pgRolesScript(passwords: { app: string; replication: string }): ScriptAction {
  const role = (
    name: string,
    envVar: string,
    attrs: string,
  ) => `if [ -z "$(psql_pg -c "select 1 from pg_roles where rolname = '${name}'")" ]; then
  psql_pg ${heredoc("SQL", `\\getenv pw ${envVar}\nCREATE ROLE ${name} ${attrs} PASSWORD :'pw';`)}
  changed
elif ! PGPASSWORD="$${envVar}" psql -XAtq -h 127.0.0.1 -U ${name} -d postgres -c 'select 1' >/dev/null 2>&1; then
  psql_pg ${heredoc("SQL", `\\getenv pw ${envVar}\nALTER ROLE ${name} WITH ${attrs} PASSWORD :'pw';`)}
  changed
fi`;
  return script(
    "postgres-roles",
    "app database, app and replication roles",
    `${psql}
export DJANGO_HA_APP_PW=${q(passwords.app)}
export DJANGO_HA_REPL_PW=${q(passwords.replication)}
wait_pg
if [ "$(psql_pg -c 'select pg_is_in_recovery()')" = t ]; then echo "this node's PostgreSQL is a standby: roles are created on the primary only" >&2; exit 1; fi
${role(DB.user, "DJANGO_HA_APP_PW", "LOGIN")}
${role(DB.replicationUser, "DJANGO_HA_REPL_PW", "LOGIN REPLICATION")}
if [ -z "$(psql_pg -c "select 1 from pg_database where datname = '${DB.name}'")" ]; then
  psql_pg -c 'CREATE DATABASE ${DB.name} OWNER ${DB.user}'
  changed
elif [ "$(psql_pg -c "select pg_get_userbyid(datdba) from pg_database where datname = '${DB.name}'")" != ${DB.user} ]; then
  psql_pg -c 'ALTER DATABASE ${DB.name} OWNER TO ${DB.user}'
  changed
fi`,
  );
}

/** The standby's physical replication slot on the primary. */
export function replicationSlotScript(): ScriptAction {
  return script(
    "replication-slot",
    `physical replication slot ${DB.slot}`,
    `${psql}
wait_pg
if [ -z "$(psql_pg -c "select 1 from pg_replication_slots where slot_name = '${DB.slot}'")" ]; then
  psql_pg -c "select pg_create_physical_replication_slot('${DB.slot}')" >/dev/null
  changed
fi`,
  );
}

/**
 * The strict policy never overrides synchronous_standby_names: remove an override a former
 * degrade-to-async watchdog may have left in postgresql.auto.conf, and the watchdog's units.
 */
export function strictSyncScript(watchdogUnits: string[]): ScriptAction {
  return script(
    "sync-policy-strict",
    "strict synchronous replication (no async fallback)",
    `${psql}
wait_pg
for unit in ${watchdogUnits.map(q).join(" ")}; do
  if [ -e "/etc/systemd/system/$unit" ]; then
    systemctl disable --now "$unit" >/dev/null 2>&1 || true
    rm -f "/etc/systemd/system/$unit"
    systemctl daemon-reload
    changed
  fi
done
if grep -q '^synchronous_standby_names' ${q(`${PATHS.pgData}/postgresql.auto.conf`)} 2>/dev/null; then
  psql_pg -c 'ALTER SYSTEM RESET synchronous_standby_names'
  psql_pg -c 'select pg_reload_conf()' >/dev/null
  changed
fi`,
  );
}

/**
 * Make this node a streaming standby of the primary with pg_basebackup, only when it is not one already.
 * The existing data directory is replaced ONLY when it is provably the empty default cluster.
 */
export function baseBackupScript(primaryAddress: string, port: number): ScriptAction {
  const conninfo = `host=${primaryAddress} port=${port} user=${DB.replicationUser} application_name=${DB.applicationName}`;
  return script(
    "postgres-basebackup",
    `hot standby of ${primaryAddress} via pg_basebackup`,
    `${psql}
data=${q(PATHS.pgData)}
unit=${POSTGRES_UNIT}
if [ -f "$data/standby.signal" ] && grep -Eq ${q(`host=${primaryAddress.replace(/\./g, "\\.")}[ ']`)} "$data/postgresql.auto.conf" 2>/dev/null; then
  exit 0
fi
# A standby.signal the boot guard wrote (roles/guard.ts) fences a would-be primary; it makes no standby.
if [ -f "$data/standby.signal" ] && ! grep -qx ${q(GUARD_SIGNAL_MARK)} "$data/standby.signal"; then
  echo "$data is a standby of another primary (see primary_conninfo in $data/postgresql.auto.conf). Not touching it: rejoin it with the failover tooling, or move the directory away yourself and re-run." >&2
  exit 1
fi
# Prove the existing cluster is Debian's empty default one before anything is removed.
if [ -f "$data/PG_VERSION" ]; then
  systemctl start "$unit"
  wait_pg
  user_objects=$(psql_pg -d postgres ${heredoc(
    "SQL",
    `select (select count(*) from pg_database where datname not in ('postgres', 'template0', 'template1'))
     + (select count(*) from pg_roles where rolname !~ '^pg_' and rolname <> 'postgres')
     + (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and c.relkind in ('r', 'v', 'm', 'S', 'f', 'p'));`,
  )}
)
  if [ "$user_objects" != 0 ]; then
    echo "$data holds $user_objects user databases/roles/tables: it is not the empty default cluster, so it is not replaced. Move it away yourself if it may go, then re-run." >&2
    exit 1
  fi
elif [ -n "$(ls -A "$data" 2>/dev/null)" ]; then
  echo "$data is not empty and not a PostgreSQL cluster: not touching it. Move it away yourself, then re-run." >&2
  exit 1
fi
new="$data.django-ha-new"
rm -rf "$new"
install -d -o postgres -g postgres -m 0700 "$new"
echo "pg_basebackup from ${primaryAddress} (slot ${DB.slot})"
runuser -u postgres -- ${PATHS.pgBin}/pg_basebackup -D "$new" -R -S ${DB.slot} -X stream -c fast -w -d ${q(conninfo)}
systemctl stop "$unit"
rm -rf "$data"
mv "$new" "$data"
systemctl start "$unit"
wait_pg
changed`,
  );
}

/** The parent's key for rsync-over-ssh of the share, and its public half where the standby fetches it (root-owned). */
export function shareSyncKeyScript(publicKeyOnShare: string): ScriptAction {
  return script(
    "share-sync-key",
    "ssh key for the share replication",
    `key=${q(PATHS.shareSyncKey)}
install -d -m 0700 /root/.ssh
if [ ! -f "$key" ]; then
  ssh-keygen -q -t ed25519 -N '' -C django-ha-share-sync -f "$key"
  changed
fi
pub=${q(publicKeyOnShare)}
if ! cmp -s "$key.pub" "$pub"; then
  install -o root -g root -m 0644 "$key.pub" "$pub"
  changed
fi`,
  );
}

/**
 * On the standby: authorize the parent's share-sync key for rrsync into the share only, from the parent only.
 * The key is read from the parent's NFS export (libnfs, NFSv3) where the parent published it, root-owned.
 */
export function shareSyncAuthorizeScript(parentAddress: string, publicKeyUrl: string, share: string): ScriptAction {
  return script(
    "share-sync-authorize",
    "let the parent rsync into the share (and nothing else)",
    `pub=$(nfs-cat ${q(publicKeyUrl)}) || { echo "cannot read ${publicKeyUrl}: is the parent bootstrapped and its NFS export up?" >&2; exit 1; }
if ! printf '%s\\n' "$pub" | grep -Eq '^ssh-ed25519 [A-Za-z0-9+/=]+ django-ha-share-sync$'; then
  echo "${publicKeyUrl} does not hold a django-ha-share-sync ed25519 key; not authorizing it" >&2
  exit 1
fi
line="restrict,from=\\"${parentAddress}\\",command=\\"/usr/bin/rrsync ${share}\\" $pub"
install -d -m 0700 /root/.ssh
touch /root/.ssh/authorized_keys
chmod 0600 /root/.ssh/authorized_keys
if ! grep -qxF "$line" /root/.ssh/authorized_keys; then
  others=$(grep -v ' django-ha-share-sync$' /root/.ssh/authorized_keys || true)
  if [ -n "$others" ]; then printf '%s\\n%s\\n' "$others" "$line" > /root/.ssh/authorized_keys; else printf '%s\\n' "$line" > /root/.ssh/authorized_keys; fi
  changed
fi`,
  );
}

/** lab-bind: the lab binds the share; fail early and clearly when it is not there. */
export function shareBindScript(share: string): ScriptAction {
  return script(
    "share-present",
    "the lab-bound share",
    `if [ ! -d ${q(`${share}/releases`)} ]; then
  echo "${share}/releases is missing: in the lab the share is bound into the node (shareMount lab-bind); start the node with the share bind, or use shareMount nfs" >&2
  exit 1
fi`,
  );
}
