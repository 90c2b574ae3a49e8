from django.db import models


class Entry(models.Model):
    amount_cents = models.IntegerField()
    note = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # Set by the Celery task (entries.tasks.book_entry) on the worker.
    booked_by = models.CharField(max_length=100, blank=True)
