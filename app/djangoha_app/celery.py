"""Celery app `djangoha_app`: the worker runs
`celery -A djangoha_app worker -Q video --concurrency 1 --prefetch-multiplier 1`.

Every setting lives in settings.py under the CELERY_ prefix (acks_late, prefetch 1, visibility timeout).
"""
import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djangoha_app.settings")

app = Celery("djangoha_app")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect(weak=False)
def _drop_dead_db_connections(**_kwargs):
    # After a failover the worker's persistent connection points at a dead primary: test it before
    # each task (djangoha_app.dbhealth, written when Django 3.2 had no CONN_HEALTH_CHECKS) so the task reconnects through DB_HOSTS.
    from djangoha_app.dbhealth import close_unusable_connections

    close_unusable_connections()
