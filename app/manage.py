#!/usr/bin/python3
"""Django's command-line utility for the django-ha sample project.

Runs on Debian 13's own python3-django (4.2): use /usr/bin/python3, not a pyenv/venv interpreter.
`manage.py test` defaults to the SQLite/temp-share override (DJANGO_TEST_SQLITE=1) so the tests need
no PostgreSQL, Redis or share; set DJANGO_TEST_SQLITE=0 with the production env to test against them.
"""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djangoha_app.settings")
    if sys.argv[1:2] == ["test"]:
        os.environ.setdefault("DJANGO_TEST_SQLITE", "1")
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Install Debian's package: apt-get install -y python3-django "
            "python3-psycopg2 python3-celery python3-redis ffmpeg (and run with /usr/bin/python3)."
        ) from exc
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
