/** Redis in a planned switchover: pause the old primary's writes and read the offsets until the replica has caught up. */
import type { Argv } from "../../../roles/shell";
import { fixed } from "./program";

/**
 * Redis on the old primary ($1 = redis.conf, $2 = port): pause client writes for $3 ms (queued jobs then
 * stay where they are while the replica catches up) and print `offset=<master_repl_offset>`.
 */
const REDIS_PAUSE = `set -euo pipefail
REDISCLI_AUTH=$(sed -n 's/^requirepass "\\(.*\\)"$/\\1/p' "$1")
export REDISCLI_AUTH
redis-cli -h 127.0.0.1 -p "$2" client pause "$3" write >/dev/null
sleep 0.2
echo "offset=$(redis-cli -h 127.0.0.1 -p "$2" info replication | tr -d '\\r' | sed -n 's/^master_repl_offset://p')"`;

export function redisPause(redisConf: string, port: number, ms: number): Argv {
  return fixed(REDIS_PAUSE, redisConf, String(port), String(ms));
}

/** The replica's processed replication offset (`offset=<n>`), on the standby ($1 = redis.conf, $2 = port). */
const REDIS_REPLICA_OFFSET = `set -euo pipefail
REDISCLI_AUTH=$(sed -n 's/^requirepass "\\(.*\\)"$/\\1/p' "$1")
export REDISCLI_AUTH
info=$(redis-cli -h 127.0.0.1 -p "$2" info replication | tr -d '\\r')
echo "offset=$(printf '%s\\n' "$info" | sed -n 's/^slave_repl_offset://p')"
echo "link=$(printf '%s\\n' "$info" | sed -n 's/^master_link_status://p')"`;

export function redisReplicaOffset(redisConf: string, port: number): Argv {
  return fixed(REDIS_REPLICA_OFFSET, redisConf, String(port));
}
