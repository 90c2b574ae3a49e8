"""While the primary cannot be reached, reads come from the standby alias and writes get a clear 503."""
from unittest import mock

from django.db import OperationalError, connections
from django.test import SimpleTestCase, TransactionTestCase, override_settings

from djangoha_app import dbrouting
from notes.models import Note
from notes.tests.helpers import TempShareMixin

DOWN = OperationalError('connection to server at "10.231.0.11", port 5432 failed: Connection refused')


class Away:
    """The aliases' connections closed and every attempt to open them refused, as after a power cut."""

    def __init__(self, *aliases):
        self.aliases = aliases or ("default",)

    def __enter__(self):
        self.kept = {}
        self.patches = []
        for alias in self.aliases:
            conn = connections[alias]
            conn.close()
            # The in-memory test database ignores close() (it would be lost): set its connection aside instead.
            self.kept[alias] = conn.connection
            conn.connection = None
            patch = mock.patch.object(conn, "ensure_connection", side_effect=DOWN)
            self.patches.append(patch)
            mock_ = patch.start()
            if alias == "default":
                self.attempts = mock_
        return self

    def __exit__(self, *exc):
        for patch in self.patches:
            patch.stop()
        for alias, kept in self.kept.items():
            connections[alias].connection = kept
        dbrouting._state.away_until = 0.0


class ReadsDuringFailoverTests(TempShareMixin, TransactionTestCase):
    # The standby alias mirrors default in tests (the same SQLite file through its own connection).
    databases = {"default", "standby"}

    def setUp(self):
        super().setUp()
        dbrouting._state.away_until = 0.0

    def test_reads_come_from_the_primary_while_it_answers(self):
        Note.objects.create(text="on the primary", node="c1")
        self.assertEqual(Note.objects.all().db, "default")
        self.assertEqual(self.client.get("/notes/").status_code, 200)

    def test_reads_are_served_from_the_standby_while_the_primary_is_away(self):
        Note.objects.create(text="written before the failure", node="c1")
        with Away() as away, self.assertLogs("djangoha_app.dbrouting", "WARNING") as logs:
            response = self.client.get("/notes/")
            self.assertEqual(response.status_code, 200, response.content)
            self.assertEqual([n["text"] for n in response.json()["notes"]], ["written before the failure"])
            self.assertEqual(Note.objects.all().db, "standby")
            # One attempt marks the primary away for DB_PRIMARY_RETRY_SECONDS: the next reads don't wait for it.
            self.assertEqual(self.client.get("/notes/").status_code, 200)
            self.assertEqual(away.attempts.call_count, 1)
        self.assertIn("database primary unreachable", logs.output[0])
        self.assertIn("Connection refused", logs.output[0])

    def test_writes_fail_clearly_with_a_503_and_nothing_is_written(self):
        with Away(), self.assertLogs("djangoha_app.dbrouting", "WARNING"):
            response = self.client.post("/notes/", {"text": "during the failover"})
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response["Retry-After"], "5")
        body = response.json()
        self.assertTrue(body["read_only"])
        self.assertIn("primary cannot be reached", body["error"])
        self.assertIn("was not confirmed", body["error"])
        self.assertFalse(Note.objects.filter(text="during the failover").exists())

    def test_the_primary_is_tried_again_after_the_retry_interval(self):
        with override_settings(DB_PRIMARY_RETRY_SECONDS=5), mock.patch("djangoha_app.dbrouting.time.monotonic") as clock:
            clock.return_value = 100.0
            with Away() as away, self.assertLogs("djangoha_app.dbrouting", "WARNING"):
                self.assertFalse(dbrouting.primary_reachable())
                clock.return_value = 104.9
                self.assertFalse(dbrouting.primary_reachable())
                self.assertEqual(away.attempts.call_count, 1)
                clock.return_value = 105.0
                self.assertFalse(dbrouting.primary_reachable())
                self.assertEqual(away.attempts.call_count, 2)
            # Back (the failover promoted the standby, or the primary returned): the next attempt connects, and
            # reads go to the primary again.
            conn = connections["default"]
            kept, conn.connection = conn.connection, None

            def reconnect():
                conn.connection = kept

            dbrouting._state.away_until = 1.0
            with mock.patch.object(conn, "ensure_connection", side_effect=reconnect), self.assertLogs("djangoha_app.dbrouting", "WARNING") as logs:
                self.assertTrue(dbrouting.primary_reachable())
            self.assertIn("reachable again", logs.output[0])
            self.assertEqual(dbrouting._state.away_until, 0.0)

    def test_a_read_fails_clearly_when_no_database_answers(self):
        with Away("default", "standby"), self.assertLogs("djangoha_app.dbrouting", "WARNING"):
            response = self.client.get("/notes/")
        self.assertEqual(response.status_code, 503)
        self.assertIn("neither the primary nor a standby answered", response.json()["error"])


class RouterTests(SimpleTestCase):
    def test_writes_and_migrations_only_on_the_primary(self):
        router = dbrouting.PrimaryOrStandbyRouter()
        self.assertEqual(router.db_for_write(Note), "default")
        self.assertTrue(router.allow_migrate("default", "notes"))
        self.assertFalse(router.allow_migrate("standby", "notes"))
        self.assertTrue(router.allow_relation(Note(), Note()))

    def test_a_write_refused_by_a_server_in_recovery_is_a_503_too(self):
        class ReadOnly(Exception):
            pgcode = "25006"

        from django.db import InternalError
        from django.test import RequestFactory

        error = InternalError("cannot execute INSERT in a read-only transaction")
        error.__cause__ = ReadOnly()
        middleware = dbrouting.DatabaseUnavailableMiddleware(lambda r: None)
        with self.assertLogs("djangoha_app.dbrouting", "ERROR"):
            response = middleware.process_exception(RequestFactory().post("/notes/"), error)
        self.assertEqual(response.status_code, 503)
        self.assertIsNone(middleware.process_exception(RequestFactory().post("/notes/"), InternalError("other")))
        self.assertIsNone(middleware.process_exception(RequestFactory().get("/notes/"), ValueError("not a database error")))
