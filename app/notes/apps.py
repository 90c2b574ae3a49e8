from django.apps import AppConfig
from django.core.signals import request_started


class NotesConfig(AppConfig):
    name = "notes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from djangoha_app.dbhealth import close_unusable_connections

        # Runs after Django's own close_old_connections (connected first, at import of django.db).
        request_started.connect(close_unusable_connections, dispatch_uid="djangoha-db-health")
