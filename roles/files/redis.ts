/** A complete /etc/redis/redis.conf for Debian's redis-server.service (it passes --supervised systemd). */
export interface RedisConfig {
  bind: string[];
  port: number;
  password: string;
  /** Replica of this primary (address, port), with the same password as masterauth. */
  replicaOf?: { host: string; port: number };
}

export function renderRedisConf(cfg: RedisConfig): string {
  const lines = [
    "# django-ha: Redis as the Celery broker. Contains the password: mode 0640 redis:redis.",
    `bind ${cfg.bind.join(" ")}`,
    "protected-mode yes",
    `port ${cfg.port}`,
    "tcp-backlog 511",
    "timeout 0",
    "tcp-keepalive 300",
    "daemonize no",
    "pidfile /run/redis/redis-server.pid",
    "loglevel notice",
    "logfile /var/log/redis/redis-server.log",
    "databases 16",
    "dir /var/lib/redis",
    "dbfilename dump.rdb",
    "save 3600 1 300 100 60 10000",
    "appendonly yes",
    'appendfilename "appendonly.aof"',
    "appendfsync everysec",
    `requirepass "${cfg.password}"`,
    "maxmemory-policy noeviction",
  ];
  if (cfg.replicaOf) {
    lines.push(
      `replicaof ${cfg.replicaOf.host} ${cfg.replicaOf.port}`,
      `masterauth "${cfg.password}"`,
      "replica-read-only yes",
      "replica-serve-stale-data yes",
    );
  }
  return `${lines.join("\n")}\n`;
}
