"""Settings on a django-ha cluster: everything from the environment django-ha sets (docs/your-project.md).

LEDGER_TEST_SQLITE=1 (for `manage.py test` on a laptop) uses SQLite, a temp share and eager Celery.
"""
import os
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, unquote

from django.core.files.storage import FileSystemStorage

BASE_DIR = Path(__file__).resolve().parent.parent.parent
TESTING = os.environ.get("LEDGER_TEST_SQLITE") == "1"


def database_from_url(url):
    """DATABASE_URL (libpq multi-host: postgresql://user:pw@h1:5432,h2:5432/name?opts) → a DATABASES entry."""
    rest = url.split("://", 1)[1]
    netloc, _, path_and_query = rest.partition("/")
    name, _, query = path_and_query.partition("?")
    userinfo, _, hostlist = netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    hosts, ports = [], []
    for item in hostlist.split(","):
        host, _, port = item[1:].partition("]") if item.startswith("[") else item.partition(":")
        hosts.append(host)
        ports.append(port.lstrip(":") or "5432")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(name),
        "USER": unquote(user),
        "PASSWORD": unquote(password),
        "HOST": ",".join(hosts),
        "PORT": ",".join(ports),
        "OPTIONS": dict(parse_qsl(query)),
    }


if TESTING:
    _tmp = tempfile.mkdtemp(prefix="ledger-test-")
    SECRET_KEY = "ledger-tests-only"
    ALLOWED_HOSTS = ["testserver", "localhost"]
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(_tmp, "db.sqlite3")}}
    MEDIA_ROOT = os.path.join(_tmp, "media")
    STATIC_ROOT = os.path.join(_tmp, "static")
    CELERY_BROKER_URL = "memory://"
else:
    SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
    ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
    MEDIA_ROOT = os.environ["MEDIA_ROOT"]
    STATIC_ROOT = os.environ["STATIC_ROOT"]
    CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"]

# The project's own variable (django-ha:app.env) and secret (django-ha:app.secretKeys → app-secrets.env).
LEDGER_CURRENCY = os.environ.get("LEDGER_CURRENCY", "EUR")
LEDGER_SIGNING_KEY_SET = bool(os.environ.get("LEDGER_SIGNING_KEY"))

DEBUG = False
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.staticfiles", "entries"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "ledger_site.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True, "OPTIONS": {}}]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "/static/"
MEDIA_URL = "/media/"
# Hashed names: old and new releases' files live side by side in the shared STATIC_ROOT.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if TESTING else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
# The manifest in the release itself (DJANGO_HA_RELEASE_DIR, set by django-ha for the build and every process).
if os.environ.get("DJANGO_HA_RELEASE_DIR") and not TESTING:
    STORAGES["staticfiles"]["OPTIONS"] = {"manifest_storage": FileSystemStorage(location=os.environ["DJANGO_HA_RELEASE_DIR"])}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Celery (ledger_site.worker). Tasks go to Celery's default queue "celery", which the cluster's worker consumes
# by default (django-ha:app.celeryQueues).
CELERY_TASK_ALWAYS_EAGER = TESTING
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
