"""DATABASE_URL (a libpq multi-host URI, as django-ha renders it) to the fields of a Django DATABASES entry.

    postgresql://app:<password>@10.0.0.11:5432,10.0.0.12:5432/app?target_session_attrs=read-write&connect_timeout=3

dj-database-url cannot read a host list (urllib takes "5432,10.0.0.12" for a port), so this small parser
does: user and password are percent-decoded, hosts are split on ",", IPv6 hosts come in brackets, and the
query becomes OPTIONS (libpq connection parameters). docs/your-project.md shows the same lines for your project.
"""
from urllib.parse import parse_qsl, unquote

from django.core.exceptions import ImproperlyConfigured


def parse_database_url(url):
    scheme, sep, rest = url.partition("://")
    if scheme not in ("postgres", "postgresql") or not sep:
        raise ImproperlyConfigured("DATABASE_URL must start with postgresql:// (value not shown); it is set by django-ha in /etc/django-ha/app.env")
    netloc, _, path_and_query = rest.partition("/")
    name, _, query = path_and_query.partition("?")
    userinfo, _, hostlist = netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    hosts, ports = [], []
    for item in hostlist.split(","):
        if item.startswith("["):
            host, _, port = item[1:].partition("]")
            port = port.lstrip(":")
        else:
            host, _, port = item.partition(":")
        if not host:
            raise ImproperlyConfigured("DATABASE_URL names an empty host (value not shown); it is set by django-ha in /etc/django-ha/app.env")
        hosts.append(host)
        ports.append(port or "5432")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(name),
        "USER": unquote(user),
        "PASSWORD": unquote(password),
        "HOST": ",".join(hosts),
        # libpq takes one port for every host, or one per host.
        "PORT": ports[0] if len(set(ports)) == 1 else ",".join(ports),
        "OPTIONS": dict(parse_qsl(query)),
    }
