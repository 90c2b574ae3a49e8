from django.urls import path

from . import views

urlpatterns = [
    path("health/", views.health, name="health"),
    path("notes/", views.notes, name="notes"),
    path("files/", views.upload_file, name="files"),
    path("videos/", views.upload_video, name="videos"),
    path("videos/<int:job_id>/", views.video_status, name="video-status"),
    path("slow/", views.slow, name="slow"),
]
