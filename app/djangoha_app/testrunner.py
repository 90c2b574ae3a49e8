"""Test runner that discovers the tests under app/ whatever the working directory.

`python3 app/manage.py test` from the repository root would otherwise walk the whole checkout
(node_modules included).
"""
from pathlib import Path

from django.test.runner import DiscoverRunner

APP_DIR = str(Path(__file__).resolve().parent.parent)


class AppDirDiscoverRunner(DiscoverRunner):
    def __init__(self, *args, top_level=None, **kwargs):
        super().__init__(*args, top_level=top_level or APP_DIR, **kwargs)

    def build_suite(self, test_labels=None, extra_tests=None, **kwargs):
        return super().build_suite(test_labels or [APP_DIR], extra_tests, **kwargs)
