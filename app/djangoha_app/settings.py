"""Settings for the django-ha sample project, read from the environment.

The roles render /etc/django-ha/app.env (docs/your-project.md lists its variables) and uWSGI, Celery and
manage.py runs load it. Required: DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL (or, from before it
existed, DB_HOSTS + DB_PASSWORD), CELERY_BROKER_URL, SHARE_ROOT, NODE_NAME. Optional (with defaults):
MEDIA_ROOT, STATIC_ROOT (under SHARE_ROOT), DB_PORT, DB_NAME, DB_USER, DB_CONN_MAX_AGE, DB_PRIMARY_RETRY_SECONDS,
DJANGO_LOG_LEVEL, DJANGO_HSTS_SECONDS, DJANGO_SECURE_SSL_REDIRECT, UPLOAD_MAX_BYTES, VIDEO_MAX_BYTES.

DJANGO_TEST_SQLITE=1 (the default for `manage.py test`) replaces PostgreSQL with a temp SQLite file,
the share with a temp directory and the broker with eager in-process tasks.
"""
import atexit
import os
import secrets
import shutil
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage

from djangoha_app.database_url import parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
ENV_FILE = "/etc/django-ha/app.env"

TESTING = os.environ.get("DJANGO_TEST_SQLITE", "0") == "1"


def env(key, default=None):
    """A required variable (default None) or an optional one; never echoes the value (secrets)."""
    value = os.environ.get(key, "").strip()
    if value:
        return value
    if default is not None:
        return default
    raise ImproperlyConfigured(
        f"{key} is not set (empty or missing). Add {key}=... to {ENV_FILE} (mode 0640 root:django), "
        "which uWSGI and Celery load; see the app contract in the README."
    )


def env_int(key, default):
    raw = env(key, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{key}={raw!r} is not an integer. Set {key} to a whole number, e.g. {key}={default}.")
    if value < 0:
        raise ImproperlyConfigured(f"{key}={value} is negative. Set {key} to 0 or more, e.g. {key}={default}.")
    return value


def env_list(key, default=None):
    items = [item.strip() for item in env(key, default).split(",") if item.strip()]
    if not items:
        raise ImproperlyConfigured(f"{key} has no entries. Set {key} to a comma-separated list.")
    return items


if TESTING:
    _test_dir = tempfile.mkdtemp(prefix="djangoha-test-")
    atexit.register(shutil.rmtree, _test_dir, ignore_errors=True)
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")
    os.environ.setdefault("NODE_NAME", "test-node")
    os.environ["SHARE_ROOT"] = os.path.join(_test_dir, "share")
    os.makedirs(os.environ["SHARE_ROOT"])

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
NODE_NAME = env("NODE_NAME")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "notes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Database unreachable → a 503 that says so (djangoha_app.dbrouting), not a server error page.
    "djangoha_app.dbrouting.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "djangoha_app.urls"
WSGI_APPLICATION = "djangoha_app.wsgi.application"
TEST_RUNNER = "djangoha_app.testrunner.AppDirDiscoverRunner"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL through a libpq multi-host string: libpq tries each of DB_HOSTS (parent, standby) and keeps
# the one that accepts writes, so after a failover the app finds the new primary without a config change.
# A second alias, "standby", on the same hosts prefers a standby: djangoha_app.dbrouting reads from it while
# the primary cannot be reached, so a parent failure makes the site read-only instead of down.
DATABASE_ROUTERS = ["djangoha_app.dbrouting.PrimaryOrStandbyRouter"]
if TESTING:
    _sqlite = os.path.join(_test_dir, "db.sqlite3")
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": _sqlite},
        "standby": {"ENGINE": "django.db.backends.sqlite3", "NAME": _sqlite, "TEST": {"MIRROR": "default"}},
    }
else:
    if os.environ.get("DATABASE_URL", "").strip():
        _connection = parse_database_url(env("DATABASE_URL"))
    else:
        _connection = {
            "HOST": ",".join(env_list("DB_HOSTS")),
            "PORT": env("DB_PORT", "5432"),
            "NAME": env("DB_NAME", "app"),
            "USER": env("DB_USER", "app"),
            "PASSWORD": env("DB_PASSWORD"),
        }

    def _postgres(target_session_attrs, application_name):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": _connection["HOST"],
            "PORT": _connection["PORT"],
            "NAME": _connection["NAME"],
            "USER": _connection["USER"],
            "PASSWORD": _connection["PASSWORD"],
            # Persistent connections, tested before reuse by djangoha_app.dbhealth (written for 3.2, before CONN_HEALTH_CHECKS).
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
            "OPTIONS": {
                "target_session_attrs": target_session_attrs,
                # Per host: a dead parent costs 3 s before libpq tries the standby.
                "connect_timeout": 3,
                # A parent that lost power sends no reset: without these, a request on a persistent connection
                # to it (even the health check's SELECT 1) would wait for TCP's own timeouts, many minutes.
                "keepalives_idle": 10,
                "keepalives_interval": 3,
                "keepalives_count": 3,
                "tcp_user_timeout": 10000,
                "application_name": application_name,
            },
        }

    DATABASES = {
        "default": _postgres("read-write", f"django-ha:{NODE_NAME}"),
        # Tests never create a second database for it: it is the same database, read through a standby.
        "standby": {**_postgres("prefer-standby", f"django-ha:{NODE_NAME}:reads"), "TEST": {"MIRROR": "default"}},
    }
# While the primary is away, how long reads stay on the standby before the primary is tried again (per process).
DB_PRIMARY_RETRY_SECONDS = env_int("DB_PRIMARY_RETRY_SECONDS", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# The share (NFS from primary.<cluster>.internal, or the lab's bind mount) holds media, static files,
# releases and the ACME webroot; nginx serves /static/ and /media/ from it directly.
SHARE_ROOT = env("SHARE_ROOT")
MEDIA_ROOT = os.path.join(SHARE_ROOT, "media") if TESTING else env("MEDIA_ROOT", os.path.join(SHARE_ROOT, "media"))
MEDIA_URL = "/media/"
STATIC_ROOT = os.path.join(SHARE_ROOT, "static") if TESTING else env("STATIC_ROOT", os.path.join(SHARE_ROOT, "static"))
STATIC_URL = "/static/"
# Not served by nginx: uploads in progress (renamed into media/ when complete) and video sources.
SHARE_TMP_DIR = os.path.join(SHARE_ROOT, "tmp")
VIDEO_SOURCE_DIR = os.path.join(SHARE_ROOT, "private", "videos")
HEALTH_DIR = os.path.join(SHARE_ROOT, ".health")
# Hashed file names: nginx can cache /static/ for long, and a release being replaced keeps its own files.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if TESTING
        else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    },
}
# The manifest of hashed names lives in the release itself (django-ha sets DJANGO_HA_RELEASE_DIR for the build
# and every app process): a worker of the old release that restarts mid-deploy still reads its own release's
# names, never a newer build's (docs/releases.md, "Static files and rollbacks").
RELEASE_DIR = os.environ.get("DJANGO_HA_RELEASE_DIR", "")
if RELEASE_DIR and not TESTING:
    STORAGES["staticfiles"]["OPTIONS"] = {"manifest_storage": FileSystemStorage(location=RELEASE_DIR)}

# Files on the share belong to the django user (uid 950 everywhere); nginx (www-data) must read them.
FILE_UPLOAD_PERMISSIONS = 0o644
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o755
# Uploads bigger than this spill to a local temp file instead of memory. nginx's client_max_body_size
# (512m in roles/child.ts) must stay above VIDEO_MAX_BYTES so users get this app's JSON 413.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
VIDEO_MAX_BYTES = env_int("VIDEO_MAX_BYTES", 500 * 1024 * 1024)

# Behind nginx: it terminates TLS and says so in X-Forwarded-Proto (nginx must set it, not pass the
# client's). nginx also redirects HTTP→HTTPS, so Django's redirect is off by default; direct uWSGI
# access (benchmarks, local checks) stays possible.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = False
SECURE_SSL_REDIRECT = env("DJANGO_SECURE_SSL_REDIRECT", "0") == "1"
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^\.well-known/"]
# HSTS binds browsers to HTTPS for this domain for its whole lifetime: an operator's choice, off by default.
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not TESTING
CSRF_COOKIE_SECURE = not TESTING
X_FRAME_OPTIONS = "DENY"

# Tests keep their output readable; they check log records with assertLogs instead.
LOG_LEVEL = env("DJANGO_LOG_LEVEL", "CRITICAL" if TESTING else "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": f"%(asctime)s %(levelname)s {NODE_NAME} %(name)s: %(message)s"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "plain"},
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
    },
}

# Celery (app djangoha_app, queue "video"). Job state lives in the database, so no result backend.
VIDEO_QUEUE = "video"
# ffmpeg is stopped after this long; the task's hard limit and the broker's visibility timeout are
# longer, so Redis never hands a running job to a second worker.
VIDEO_TRANSCODE_TIMEOUT = 3 * 3600
CELERY_BROKER_URL = "memory://" if TESTING else env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = TESTING
CELERY_TASK_EAGER_PROPAGATES = TESTING
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ROUTES = {"notes.transcode_video": {"queue": VIDEO_QUEUE}}
CELERY_TASK_DEFAULT_QUEUE = VIDEO_QUEUE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = VIDEO_TRANSCODE_TIMEOUT + 300
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 4 * 3600,
    "socket_connect_timeout": 5,
    "socket_timeout": 30,
}
# A web request that enqueues must not hang when Redis is away: a few quick retries, then 503.
CELERY_BROKER_CONNECTION_TIMEOUT = 4
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
