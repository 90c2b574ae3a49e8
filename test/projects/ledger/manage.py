#!/usr/bin/env python3
"""django-ha's second test project (test/projects/ledger): its own layout, settings module and Celery app."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledger_site.settings.cluster")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
