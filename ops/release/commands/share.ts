/** The share's releases: `current` moves, a failed release is marked, old ones are pruned. */
import type { Argv } from "../../../roles/shell";
import { SET_CURRENT } from "../../../roles/release";
import { fixed } from "./program";

export function setShareCurrent(current: string, id: string, user: string): Argv {
  return fixed(SET_CURRENT, current, id, user);
}

/** Mark release dir $1 unhealthy (`.failed` holding the reason $3), as the app user $2: rollbacks never pick it. */
const MARK_FAILED = `set -euo pipefail
dir=$1; user=$2; reason=$3
printf '%s\\n' "$reason" | runuser -u "$user" -- tee "$dir/.failed" >/dev/null`;

export function markFailed(releaseDir: string, user: string, reason: string): Argv {
  return fixed(MARK_FAILED, releaseDir, user, reason);
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
  return fixed(PRUNE, releases, lock, user, ...ids);
}
