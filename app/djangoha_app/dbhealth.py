"""Connection health checks for persistent DB connections (what Django 4.1+'s CONN_HEALTH_CHECKS does).

Written for Django 3.2, which reuses a connection for CONN_MAX_AGE seconds without testing it, so the first request after
a PostgreSQL failover would fail on a socket to the old primary. Testing reused connections first lets
libpq reconnect through DB_HOSTS with target_session_attrs=read-write and find the new primary.
"""
import logging

from django.db import connections

log = logging.getLogger(__name__)


def close_unusable_connections(**_kwargs):
    """Close every open, idle connection that no longer answers (one `SELECT 1` per reused connection)."""
    for conn in connections.all():
        if conn.connection is None or conn.in_atomic_block:
            continue
        if not conn.is_usable():
            log.warning("database connection %r is unusable; reconnecting", conn.alias)
            conn.close()
