from django.db import models

NOTE_MAX_LENGTH = 2000


class Note(models.Model):
    """A line of text written through any child; proves the children share one PostgreSQL primary."""

    text = models.TextField(max_length=NOTE_MAX_LENGTH)
    node = models.CharField(max_length=100, help_text="NODE_NAME of the child that wrote it")
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.id}: {self.text[:40]}"


class VideoJob(models.Model):
    """A transcode request: created by a child, run by the worker, output written to the share."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    STATUS_CHOICES = [(QUEUED, "queued"), (RUNNING, "running"), (DONE, "done"), (FAILED, "failed")]

    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=QUEUED, db_index=True)
    original_name = models.CharField(max_length=255)
    source = models.CharField(max_length=255, blank=True, help_text="file name under SHARE_ROOT/private/videos")
    output = models.CharField(max_length=255, blank=True, help_text="name under MEDIA_ROOT, e.g. videos/7.mp4")
    error = models.TextField(blank=True)
    node = models.CharField(max_length=100, help_text="NODE_NAME of the child that accepted the upload")
    worker = models.CharField(max_length=100, blank=True, help_text="NODE_NAME of the worker that ran it")
    attempts = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"video job {self.id} ({self.status})"
