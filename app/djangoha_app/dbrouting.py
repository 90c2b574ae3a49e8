"""Reads keep working while the primary is away: the site degrades to read-only instead of down.

Two database aliases on the same DB_HOSTS (settings.py): "default" asks libpq for a read-write server (the
primary), "standby" for a standby if there is one, else any server (target_session_attrs=prefer-standby).
The router sends every write to "default" and every read to "default" too — the primary has every
commit, so a client reads its own writes — unless the primary cannot be reached, then to "standby".
A failed connection attempt marks the primary away for DB_PRIMARY_RETRY_SECONDS (per process), so only
one request per process and interval pays the connection attempt; writes always try the primary and, when
it is away, get a clear 503 from DatabaseUnavailableMiddleware instead of a server error page.
"""
import logging
import time

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import JsonResponse

log = logging.getLogger(__name__)

PRIMARY = "default"
STANDBY = "standby"


class _PrimaryState:
    """Per process (uWSGI worker, Celery worker): until when the primary counts as away."""

    away_until = 0.0


_state = _PrimaryState()


def primary_reachable():
    """Whether reads may go to the primary: its connection is open, or opening one works now."""
    conn = connections[PRIMARY]
    # An open connection was tested at the start of the request (djangoha_app.dbhealth).
    if conn.connection is not None:
        return True
    now = time.monotonic()
    if now < _state.away_until:
        return False
    try:
        conn.ensure_connection()
    except OperationalError as exc:
        _state.away_until = now + settings.DB_PRIMARY_RETRY_SECONDS
        log.warning(
            "database primary unreachable (%s); reads go to the standby, next attempt in %s s",
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
            settings.DB_PRIMARY_RETRY_SECONDS,
        )
        return False
    if _state.away_until:
        log.warning("database primary reachable again; reads go to the primary")
        _state.away_until = 0.0
    return True


class PrimaryOrStandbyRouter:
    """Writes to the primary; reads to the primary, or to a standby while the primary is away."""

    def db_for_read(self, model, **hints):
        return PRIMARY if primary_reachable() else STANDBY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases are the same database (one primary and its replicas).
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # Migrations run on the primary only; a standby replays them.
        return db == PRIMARY


class DatabaseUnavailableMiddleware:
    """A request that needs a database nobody can reach gets a 503 that says what happened, not a 500 page."""

    RETRY_AFTER_SECONDS = 5

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)) and not _read_only_refusal(exception):
            return None
        if request.method in ("GET", "HEAD", "OPTIONS"):
            message = "the database cannot be reached (neither the primary nor a standby answered); retry in a few seconds"
        else:
            message = (
                "the database primary cannot be reached (a failover may be under way): this change was not confirmed "
                "and may not have been saved; reads are still served; retry in a few seconds"
            )
        log.error("%s %s: %s: %r", request.method, request.path, message, exception)
        response = JsonResponse({"error": message, "read_only": True}, status=503)
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response


def _read_only_refusal(exception):
    """A write that reached a server in recovery (SQLSTATE 25006, read_only_sql_transaction)."""
    cause = exception.__cause__
    return isinstance(exception, DatabaseError) and getattr(cause, "pgcode", None) == "25006"
