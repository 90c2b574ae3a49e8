"""WSGI entry point: django-ha:app.wsgiModule = ledger_site.wsgi:app (not the usual name `application`)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledger_site.settings.cluster")
app = get_wsgi_application()
