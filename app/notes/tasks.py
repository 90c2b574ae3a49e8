"""The video job, run by the worker on queue "video".

Delivery is at-least-once (acks_late, reject_on_worker_lost): a job may arrive twice, e.g. after a
worker died mid-transcode. A job already done is skipped; anything else is (re)run from its source,
and the output replaces the previous one atomically.
"""
import logging
import os

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.models import F
from django.utils import timezone

from .models import VideoJob
from .video import TranscodeError, transcode

log = logging.getLogger(__name__)


def output_name(job_id):
    return f"videos/{job_id}.mp4"


@shared_task(
    name="notes.transcode_video",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # The database may be failing over: wait for it instead of losing the job.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=20,
)
def transcode_video(self, job_id):
    job = VideoJob.objects.filter(pk=job_id).first()
    if job is None:
        log.warning("video job %s does not exist; dropping the message", job_id)
        return "missing"
    if job.status == VideoJob.DONE:
        log.info("video job %s is already done (redelivered message); skipping", job_id)
        return "skipped"

    VideoJob.objects.filter(pk=job_id).update(
        status=VideoJob.RUNNING,
        attempts=F("attempts") + 1,
        started=timezone.now(),
        worker=settings.NODE_NAME,
        error="",
    )
    source = os.path.join(settings.VIDEO_SOURCE_DIR, job.source)
    name = output_name(job_id)
    log.info("video job %s: transcoding %s", job_id, job.source)
    try:
        if not job.source or not os.path.isfile(source):
            raise TranscodeError(f"source file {job.source!r} is missing from {settings.VIDEO_SOURCE_DIR}")
        transcode(source, os.path.join(settings.MEDIA_ROOT, name), settings.VIDEO_TRANSCODE_TIMEOUT)
    except (TranscodeError, OSError) as exc:
        message = str(exc) if isinstance(exc, TranscodeError) else f"{type(exc).__name__}: {exc}"
        log.error("video job %s failed: %s", job_id, message)
        VideoJob.objects.filter(pk=job_id).update(
            status=VideoJob.FAILED, error=message, output="", finished=timezone.now()
        )
        return VideoJob.FAILED

    VideoJob.objects.filter(pk=job_id).update(
        status=VideoJob.DONE, output=name, error="", finished=timezone.now()
    )
    try:
        os.unlink(source)  # the output is what we keep; a redelivery of a done job never needs it
    except OSError as exc:
        log.warning("video job %s: could not remove the source: %s", job_id, exc)
    log.info("video job %s done: %s", job_id, name)
    return VideoJob.DONE

