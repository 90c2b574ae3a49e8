/** The share in a planned switchover: the old primary stops serving and replicating it, after one last sync to the new primary. */
import type { Argv } from "../../../roles/shell";
import { fixed } from "./program";

/**
 * The old primary hands the share over: its NFS export stops, its share replication stops for good (the new
 * primary replicates the other way once the roles say so), and one last rsync — the same transfer as lsyncd,
 * key and rrsync-rooted target — copies what lsyncd had not sent yet.
 * $1 = share dir, $2 = target (root@addr), $3 = ssh port, $4 = key, $5 = sync unit.
 */
const SHARE_HANDOVER = `set -euo pipefail
share=$1; target=$2; port=$3; key=$4; unit=$5
systemctl disable --now nfs-ganesha >/dev/null 2>&1 || true
systemctl disable --now "$unit" >/dev/null 2>&1 || true
rsync -a -H --delete --numeric-ids --omit-dir-times \\
  -e "/usr/bin/ssh -p $port -i $key -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=$key.known_hosts" \\
  "$share/" "$target:/"
echo changed=share-final-sync`;

export function shareHandover(o: { share: string; target: string; sshPort: number; key: string; syncUnit: string }): Argv {
  return fixed(SHARE_HANDOVER, o.share, o.target, String(o.sshPort), o.key, o.syncUnit);
}
