"""Production settings (PostgreSQL, Redis, the share) built from app.env, checked in a fresh interpreter."""
import json
import os
import re
import subprocess
import sys
from unittest import mock

from django.conf import settings
from django.test import SimpleTestCase

from djangoha_app.celery import app as celery_app
from djangoha_app.dbhealth import close_unusable_connections

APP_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "djangoha_app.settings",
    "DJANGO_SECRET_KEY": "k" * 60 + "-not-a-real-secret-only-for-this-test",
    "DJANGO_ALLOWED_HOSTS": "www.example.test, 10.231.0.21,localhost",
    "DB_HOSTS": "10.231.0.11,10.231.0.12",
    "DB_PORT": "5432",
    "DB_NAME": "app",
    "DB_USER": "app",
    "DB_PASSWORD": "pw-for-this-test",
    "CELERY_BROKER_URL": "redis://:pw@primary.lab.internal:6379/0",
    "SHARE_ROOT": "/srv/share",
    "NODE_NAME": "child-1",
}


def run_python(code, env, *args):
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **env}
    return subprocess.run(
        [sys.executable, *args] if not code else [sys.executable, "-c", code],
        cwd=APP_DIR, env=clean, capture_output=True, text=True, timeout=120,
    )


DUMP = """
import json, django
from django.conf import settings
django.setup()
keys = ("ENGINE", "HOST", "PORT", "NAME", "USER", "CONN_MAX_AGE", "OPTIONS")
db, reads = settings.DATABASES["default"], settings.DATABASES["standby"]
print(json.dumps({
    "db": {k: db[k] for k in keys},
    "reads": {k: reads[k] for k in keys}, "routers": settings.DATABASE_ROUTERS, "retry": settings.DB_PRIMARY_RETRY_SECONDS,
    "media": settings.MEDIA_ROOT, "static": settings.STATIC_ROOT, "hosts": settings.ALLOWED_HOSTS,
    "debug": settings.DEBUG, "proxy": list(settings.SECURE_PROXY_SSL_HEADER), "broker": settings.CELERY_BROKER_URL,
    "staticfiles": settings.STORAGES["staticfiles"]["BACKEND"],
}))
"""

MANIFEST = """
import django
django.setup()
from django.contrib.staticfiles.storage import staticfiles_storage
print(staticfiles_storage.manifest_storage.location)
"""


class ProductionSettingsTests(SimpleTestCase):
    def test_built_from_the_env_contract(self):
        result = run_python(DUMP, PRODUCTION_ENV)
        self.assertEqual(result.returncode, 0, result.stderr)
        dumped = json.loads(result.stdout)
        self.assertEqual(
            dumped["db"],
            {
                "ENGINE": "django.db.backends.postgresql",
                "HOST": "10.231.0.11,10.231.0.12",
                "PORT": "5432",
                "NAME": "app",
                "USER": "app",
                "CONN_MAX_AGE": 60,
                "OPTIONS": {
                    "target_session_attrs": "read-write",
                    "connect_timeout": 3,
                    "keepalives_idle": 10,
                    "keepalives_interval": 3,
                    "keepalives_count": 3,
                    "tcp_user_timeout": 10000,
                    "application_name": "django-ha:child-1",
                },
            },
        )
        # Reads while the primary is away: the same database through a standby (djangoha_app.dbrouting).
        self.assertEqual(
            dumped["reads"],
            {
                **dumped["db"],
                "OPTIONS": {**dumped["db"]["OPTIONS"], "target_session_attrs": "prefer-standby", "application_name": "django-ha:child-1:reads"},
            },
        )
        self.assertEqual(dumped["routers"], ["djangoha_app.dbrouting.PrimaryOrStandbyRouter"])
        self.assertEqual(dumped["retry"], 5)
        self.assertEqual((dumped["media"], dumped["static"]), ("/srv/share/media", "/srv/share/static"))
        self.assertEqual(dumped["hosts"], ["www.example.test", "10.231.0.21", "localhost"])
        self.assertEqual(dumped["debug"], False)
        self.assertEqual(dumped["proxy"], ["HTTP_X_FORWARDED_PROTO", "https"])
        self.assertEqual(dumped["broker"], PRODUCTION_ENV["CELERY_BROKER_URL"])
        self.assertTrue(dumped["staticfiles"].endswith("ManifestStaticFilesStorage"))

    def test_static_manifest_lives_in_the_release(self):
        # django-ha sets DJANGO_HA_RELEASE_DIR for the build and every app process: the manifest is the release's own.
        release = "/srv/share/releases/20261201120000-0123456789ab"
        pinned = run_python(MANIFEST, {**PRODUCTION_ENV, "DJANGO_HA_RELEASE_DIR": release})
        self.assertEqual(pinned.returncode, 0, pinned.stderr)
        self.assertEqual(pinned.stdout.strip(), release)
        # Outside a release (a plain manage.py run): Django's default, next to the files.
        plain = run_python(MANIFEST, PRODUCTION_ENV)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertEqual(plain.stdout.strip(), "/srv/share/static")

    def test_database_url_gives_the_same_connection_as_the_db_variables(self):
        old = json.loads(run_python(DUMP, PRODUCTION_ENV).stdout)
        url = "postgresql://app:pw-for-this-test@10.231.0.11:5432,10.231.0.12:5432/app?target_session_attrs=read-write&connect_timeout=3"
        # The cluster renders both; DATABASE_URL wins (DB_* are wrong here on purpose).
        env = {**PRODUCTION_ENV, "DATABASE_URL": url, "DB_HOSTS": "192.0.2.1", "DB_PASSWORD": "wrong", "MEDIA_ROOT": "/srv/share/media", "STATIC_ROOT": "/srv/share/static"}
        result = run_python(DUMP, env)
        self.assertEqual(result.returncode, 0, result.stderr)
        new = json.loads(result.stdout)
        self.assertEqual((new["db"], new["reads"]), (old["db"], old["reads"]))
        self.assertEqual((new["media"], new["static"]), ("/srv/share/media", "/srv/share/static"))

    def test_database_url_parser(self):
        from djangoha_app.database_url import parse_database_url

        parsed = parse_database_url("postgresql://app:p%40ss%2Fw%3Ard@[2001:db8::1]:5432,10.0.0.2:6432/app%20db?target_session_attrs=read-write&connect_timeout=3")
        self.assertEqual(
            parsed,
            {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "app db",
                "USER": "app",
                "PASSWORD": "p@ss/w:rd",
                "HOST": "2001:db8::1,10.0.0.2",
                "PORT": "5432,6432",
                "OPTIONS": {"target_session_attrs": "read-write", "connect_timeout": "3"},
            },
        )
        from django.core.exceptions import ImproperlyConfigured

        for bad in ("mysql://a:b@h/db", "app:pw@h/db", "postgresql://a:b@/db"):
            with self.assertRaises(ImproperlyConfigured) as caught:
                parse_database_url(bad)
            self.assertNotIn("b@", str(caught.exception))

    def test_missing_variable_names_the_key_and_the_file_without_printing_secrets(self):
        env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DB_HOSTS"}
        result = run_python(DUMP, env)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("DB_HOSTS is not set", result.stderr)
        self.assertIn("/etc/django-ha/app.env", result.stderr)
        self.assertNotIn(PRODUCTION_ENV["DB_PASSWORD"], result.stderr + result.stdout)
        self.assertNotIn(PRODUCTION_ENV["DJANGO_SECRET_KEY"], result.stderr + result.stdout)

    def test_bad_number_names_the_key_the_value_and_the_fix(self):
        result = run_python(DUMP, {**PRODUCTION_ENV, "DB_CONN_MAX_AGE": "soon"})
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("DB_CONN_MAX_AGE='soon' is not an integer", result.stderr)

    def test_check_deploy_has_only_the_justified_warnings(self):
        # W004 (HSTS) and W008 (SSL redirect) are deliberate: nginx terminates TLS and redirects
        # HTTP→HTTPS; HSTS is opt-in with DJANGO_HSTS_SECONDS. Anything else is a regression.
        result = run_python(None, PRODUCTION_ENV, "manage.py", "check", "--deploy")
        self.assertEqual(result.returncode, 0, result.stderr)
        found = sorted(set(re.findall(r"\(security\.(W\d+)\)", result.stderr)))
        self.assertEqual(found, ["W004", "W008"], result.stderr)
        hardened = {**PRODUCTION_ENV, "DJANGO_HSTS_SECONDS": "31536000", "DJANGO_SECURE_SSL_REDIRECT": "1"}
        result = run_python(None, hardened, "manage.py", "check", "--deploy")
        self.assertEqual(result.returncode, 0, result.stderr)
        # With HSTS on, Django suggests subdomains + preload: commitments only the domain's owner can make.
        found = sorted(set(re.findall(r"\(security\.(W\d+)\)", result.stderr)))
        self.assertEqual(found, ["W005", "W021"], result.stderr)

    def test_migrations_are_committed(self):
        result = run_python(None, {"DJANGO_TEST_SQLITE": "1"}, "manage.py", "makemigrations", "--check", "--dry-run")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


class CeleryContractTests(SimpleTestCase):
    def test_worker_settings(self):
        conf = celery_app.conf
        self.assertEqual(celery_app.main, "djangoha_app")
        self.assertTrue(conf.task_acks_late)
        self.assertTrue(conf.task_reject_on_worker_lost)
        self.assertEqual(conf.worker_prefetch_multiplier, 1)
        self.assertEqual(conf.task_routes, {"notes.transcode_video": {"queue": "video"}})
        visibility = conf.broker_transport_options["visibility_timeout"]
        self.assertGreater(visibility, conf.task_time_limit)
        self.assertGreater(conf.task_time_limit, settings.VIDEO_TRANSCODE_TIMEOUT)

    def test_task_is_registered_for_the_worker(self):
        self.assertIn("notes.transcode_video", celery_app.tasks)
        task = celery_app.tasks["notes.transcode_video"]
        self.assertTrue(task.acks_late)
        self.assertTrue(task.reject_on_worker_lost)


class ConnectionHealthCheckTests(SimpleTestCase):
    def fake(self, open_, usable, atomic=False):
        return mock.Mock(alias="default", connection=object() if open_ else None, in_atomic_block=atomic,
                         is_usable=mock.Mock(return_value=usable))

    def test_closes_only_open_idle_unusable_connections(self):
        dead, alive, closed, busy = self.fake(True, False), self.fake(True, True), self.fake(False, False), self.fake(True, False, atomic=True)
        with mock.patch("djangoha_app.dbhealth.connections") as conns, self.assertLogs("djangoha_app.dbhealth", "WARNING"):
            conns.all.return_value = [dead, alive, closed, busy]
            close_unusable_connections()
        dead.close.assert_called_once_with()
        alive.close.assert_not_called()
        closed.close.assert_not_called()
        closed.is_usable.assert_not_called()
        busy.close.assert_not_called()

    def test_runs_at_each_request(self):
        from django.core.signals import request_started

        with mock.patch("djangoha_app.dbhealth.connections") as conns:
            conns.all.return_value = []
            request_started.send(sender=self.__class__)
        conns.all.assert_called()
