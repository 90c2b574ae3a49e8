"""The ledger project's own tests: LEDGER_TEST_SQLITE=1 python3 manage.py test (Debian's Django; ledgerfmt on the path)."""
import json
import os
from unittest import mock

from django.test import TestCase

from ledger_site.settings.cluster import database_from_url

from .models import Entry


class LedgerTests(TestCase):
    def test_health(self):
        self.assertEqual(self.client.get("/-/health/").status_code, 200)

    def test_page_shows_release_package_and_markdown(self):
        with mock.patch.dict(os.environ, {"DJANGO_HA_RELEASE": "20261201090000-0123456789ab"}):
            body = self.client.get("/").content.decode()
        self.assertIn('<span id="release">20261201090000-0123456789ab</span>', body)
        self.assertIn("ledgerfmt-1.0.0-from-the-lab-index", body)
        self.assertIn("<em>ledger</em>", body)

    def test_write_books_the_entry_through_celery(self):
        r = self.client.post("/entries/", json.dumps({"amount_cents": 1234}), content_type="application/json")
        self.assertEqual(r.status_code, 201)
        self.assertEqual(r.json()["amount"], "12.34 EUR")
        self.assertTrue(Entry.objects.get(pk=r.json()["id"]).booked_by)

    def test_database_url(self):
        db = database_from_url("postgresql://app:p%40ss@10.0.0.1:5432,[2001:db8::2]:5432/app?target_session_attrs=read-write")
        self.assertEqual((db["HOST"], db["PORT"], db["PASSWORD"], db["OPTIONS"]), ("10.0.0.1,2001:db8::2", "5432,5432", "p@ss", {"target_session_attrs": "read-write"}))
