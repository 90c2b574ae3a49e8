from django.urls import path

from entries import views

urlpatterns = [
    path("-/health/", views.health),
    path("", views.index),
    path("entries/", views.create_entry),
    path("entries/<int:entry_id>/", views.entry),
]
