# Load the Celery app with Django so `transcode_video.delay()` on the web nodes uses its settings.
from .celery import app as celery_app

__all__ = ("celery_app",)
