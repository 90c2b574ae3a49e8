# The Celery app is loaded with Django, so @shared_task binds to it (Celery's documented layout).
from .worker import queue_app

__all__ = ("queue_app",)
