"""The project's Celery app: django-ha:app.celeryApp = ledger_site.worker:queue_app."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledger_site.settings.cluster")
queue_app = Celery("ledger")
queue_app.config_from_object("django.conf:settings", namespace="CELERY")
queue_app.autodiscover_tasks()
