import os
import socket

from celery import shared_task

from .models import Entry


@shared_task(name="entries.book_entry")
def book_entry(entry_id):
    """Marks an entry booked, naming the worker and the release that ran the task."""
    Entry.objects.filter(pk=entry_id).update(booked_by=f"{socket.gethostname()}@{os.environ.get('DJANGO_HA_RELEASE', 'none')}")
