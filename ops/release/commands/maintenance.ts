/** The site's mode: the flags on the share, and what a child's nginx answers. */
import type { Argv } from "../../../roles/shell";
import { fixed } from "./program";

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
  return fixed(SET_FLAGS, flagsDir, user, flags.maintenance ? "1" : "0", flags.readOnly ? "1" : "0");
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
  return fixed(MODE_PROBE, a.fqdn, String(a.httpsPort), a.fullchain, a.selfSigned, a.probePath, a.header);
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
