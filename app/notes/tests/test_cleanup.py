import os
import time
from io import StringIO

from django.core.management import CommandError, call_command
from django.test import SimpleTestCase

from notes.tests.helpers import TempShareMixin


class CleanupShareTmpTests(TempShareMixin, SimpleTestCase):
    def make(self, name, age_hours):
        tmp = os.path.join(self.share, "tmp")
        os.makedirs(tmp, exist_ok=True)
        path = os.path.join(tmp, name)
        open(path, "w").close()
        past = time.time() - age_hours * 3600
        os.utime(path, (past, past))
        return path

    def test_removes_only_old_files(self):
        old = self.make("incoming-old.part", 30)
        fresh = self.make("incoming-fresh.part", 1)
        out = StringIO()
        call_command("cleanup_share_tmp", stdout=out)
        self.assertFalse(os.path.exists(old))
        self.assertTrue(os.path.exists(fresh))
        self.assertIn("removed 1 file(s) older than 24 h", out.getvalue())

    def test_dry_run_removes_nothing(self):
        old = self.make("incoming-old.part", 30)
        out = StringIO()
        call_command("cleanup_share_tmp", "--dry-run", stdout=out)
        self.assertTrue(os.path.exists(old))
        self.assertIn(f"would remove {old}", out.getvalue())

    def test_refuses_a_threshold_shorter_than_a_job(self):
        with self.assertRaisesRegex(CommandError, "--older-than-hours=1 .* use 4 or more"):
            call_command("cleanup_share_tmp", "--older-than-hours", "1")

    def test_missing_directory_is_fine(self):
        out = StringIO()
        call_command("cleanup_share_tmp", stdout=out)
        self.assertIn("nothing to do", out.getvalue())
