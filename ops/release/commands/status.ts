/** The releases on the share as a node sees them: which exist (ready, failed, source), which is current, the flags. */
import type { Argv } from "../../../roles/shell";
import { isReleaseId, type ReleaseInfo } from "../release";
import { fixed } from "./program";

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
  return fixed(STATUS, p.releases, p.nodeCurrent, p.shareCurrent, p.maintenanceFlag, p.readOnlyFlag);
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
