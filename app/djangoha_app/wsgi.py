"""WSGI entry point for uWSGI: `module = djangoha_app.wsgi:application`, chdir = the current release."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djangoha_app.settings")

application = get_wsgi_application()
