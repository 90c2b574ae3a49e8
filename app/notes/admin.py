from django.contrib import admin

from .models import Note, VideoJob


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ("id", "text", "node", "created")
    search_fields = ("text",)


@admin.register(VideoJob)
class VideoJobAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "original_name", "node", "worker", "attempts", "created", "finished")
    list_filter = ("status",)
    readonly_fields = ("created", "started", "finished")
