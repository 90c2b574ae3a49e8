import os
import stat
import time
from pathlib import Path
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.test import TestCase, override_settings

from notes.models import Note
from notes.tests.helpers import TempShareMixin


class HealthTests(TempShareMixin, TestCase):
    def test_ok_when_db_and_share_work(self):
        response = self.client.get("/health/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok", "db": "ok", "share": "ok", "node": "test-node"})
        marker = os.path.join(self.share, ".health", "test-node")
        self.assertEqual(len(Path(marker).read_text()), 32)
        self.assertEqual(os.listdir(os.path.join(self.share, ".health")), ["test-node"])
        self.assertEqual(response["Cache-Control"], "no-store")

    def test_503_naming_the_share_when_it_is_not_writable(self):
        blocked = os.path.join(self.share, "not-a-directory")
        open(blocked, "w").close()
        with override_settings(HEALTH_DIR=os.path.join(blocked, ".health")):
            response = self.client.get("/health/")
        self.assertEqual(response.status_code, 503)
        body = response.json()
        self.assertEqual((body["status"], body["db"]), ("fail", "ok"))
        self.assertTrue(body["share"].startswith("error: "), body)

    def test_503_when_the_share_hangs(self):
        def hang(outcome):
            pass  # never answers: what a dead NFS server looks like to the probe

        with mock.patch("notes.views._probe_share", hang), mock.patch("notes.views.SHARE_CHECK_TIMEOUT", 0.2):
            response = self.client.get("/health/")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["share"], "error: no answer within 0.2 s")

    def test_503_naming_the_db_when_it_fails(self):
        with mock.patch("notes.views.connection.cursor", side_effect=OperationalError("connection refused")):
            with self.assertLogs("notes.views", "ERROR"):
                response = self.client.get("/health/")
        self.assertEqual(response.status_code, 503)
        body = response.json()
        self.assertEqual((body["status"], body["db"], body["share"]), ("fail", "error: OperationalError", "ok"))

    def test_get_only(self):
        self.assertEqual(self.client.post("/health/").status_code, 405)


class SlowTests(TestCase):
    def test_answers_after_the_time_naming_release_and_process(self):
        with mock.patch.dict(os.environ, {"DJANGO_HA_RELEASE": "20261201120000-0123456789ab"}):
            began = time.monotonic()
            response = self.client.get("/slow/?seconds=0.3")
            took = time.monotonic() - began
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertGreaterEqual(took, 0.3)
        self.assertEqual((body["slept"], body["release"], body["pid"]), (0.3, "20261201120000-0123456789ab", os.getpid()))
        self.assertGreaterEqual(body["finished"] - body["started"], 0.3)
        self.assertEqual(response["Cache-Control"], "no-store")

    def test_refuses_bad_or_long_waits(self):
        for raw in ("x", "-1", "11", "nan", "inf"):
            response = self.client.get(f"/slow/?seconds={raw}")
            self.assertEqual(response.status_code, 400, raw)
            self.assertIn("from 0 to 10", response.json()["error"])

    def test_get_only(self):
        self.assertEqual(self.client.post("/slow/").status_code, 405)


class NotesTests(TempShareMixin, TestCase):
    def test_write_then_read(self):
        created = self.client.post("/notes/", {"text": "hello from a child"})
        self.assertEqual(created.status_code, 201)
        body = created.json()
        self.assertEqual(body["node"], "test-node")
        self.assertEqual(Note.objects.get(pk=body["id"]).text, "hello from a child")

        listed = self.client.get("/notes/").json()["notes"]
        self.assertEqual([(n["id"], n["text"], n["node"]) for n in listed], [(body["id"], "hello from a child", "test-node")])
        self.assertRegex(listed[0]["created"], r"^\d{4}-\d\d-\d\dT")

    def test_newest_first(self):
        first = self.client.post("/notes/", {"text": "one"}).json()["id"]
        second = self.client.post("/notes/", {"text": "two"}).json()["id"]
        self.assertEqual([n["id"] for n in self.client.get("/notes/").json()["notes"]], [second, first])

    def test_rejects_empty_and_oversized_text(self):
        empty = self.client.post("/notes/", {"text": "   "})
        self.assertEqual(empty.status_code, 400)
        self.assertIn("'text'", empty.json()["error"])
        huge = self.client.post("/notes/", {"text": "x" * 2001})
        self.assertEqual(huge.status_code, 400)
        self.assertIn("2000", huge.json()["error"])
        self.assertEqual(Note.objects.count(), 0)

    def test_no_csrf_token_needed_for_the_api(self):
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        self.assertEqual(strict.post("/notes/", {"text": "api"}).status_code, 201)

    def test_admin_keeps_csrf(self):
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        response = strict.post("/admin/login/", {"username": "a", "password": "b"})
        self.assertEqual(response.status_code, 403)

    def test_other_methods_refused(self):
        self.assertEqual(self.client.put("/notes/").status_code, 405)


class FileUploadTests(TempShareMixin, TestCase):
    def upload(self, name, content):
        return self.client.post("/files/", {"file": SimpleUploadedFile(name, content)})

    def test_stored_on_the_share_and_named_safely(self):
        response = self.upload("My Holiday Photo.JPG", b"\xff\xd8 not really a jpeg")
        self.assertEqual(response.status_code, 201)
        body = response.json()
        self.assertRegex(body["name"], r"^My_Holiday_Photo-[0-9a-f]{8}\.JPG$")
        self.assertEqual(body["url"], f"/media/uploads/{body['name']}")
        path = os.path.join(self.share, "media", "uploads", body["name"])
        self.assertEqual(Path(path).read_bytes(), b"\xff\xd8 not really a jpeg")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o644)
        self.assertEqual(self.leftover_temp_files(), [])

    def test_path_tricks_stay_inside_uploads(self):
        for hostile in ("../../etc/passwd", "..\\..\\boot.ini", ".htaccess", "a/../../.ssh/id_rsa", "...", "<script>.html", "видео.mp4"):
            body = self.upload(hostile, b"x").json()
            self.assertNotIn("/", body["name"])
            self.assertNotIn("\\", body["name"])
            self.assertFalse(body["name"].startswith("."), body["name"])
            self.assertRegex(body["name"], r"^[A-Za-z0-9_.-]+$")
            self.assertTrue(os.path.isfile(os.path.join(self.share, "media", "uploads", body["name"])))
        self.assertEqual(sorted(os.listdir(self.share)), ["media", "tmp"])

    def test_same_name_twice_keeps_both(self):
        first = self.upload("same.txt", b"first").json()["name"]
        second = self.upload("same.txt", b"second").json()["name"]
        self.assertNotEqual(first, second)
        uploads = os.path.join(self.share, "media", "uploads")
        self.assertEqual(Path(uploads, first).read_bytes(), b"first")
        self.assertEqual(Path(uploads, second).read_bytes(), b"second")

    def test_large_upload_goes_through_a_temp_file(self):
        content = os.urandom(3 * 1024 * 1024)  # above FILE_UPLOAD_MAX_MEMORY_SIZE
        body = self.upload("big.bin", content).json()
        self.assertEqual(Path(self.share, "media", "uploads", body["name"]).read_bytes(), content)

    @override_settings(UPLOAD_MAX_BYTES=10)
    def test_size_limit(self):
        response = self.upload("big.txt", b"x" * 11)
        self.assertEqual(response.status_code, 413)
        self.assertIn("UPLOAD_MAX_BYTES", response.json()["error"])
        self.assertFalse(os.path.exists(os.path.join(self.share, "media")))

    def test_missing_file_field(self):
        response = self.client.post("/files/", {"other": "x"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("'file'", response.json()["error"])

    def test_post_only(self):
        self.assertEqual(self.client.get("/files/").status_code, 405)
