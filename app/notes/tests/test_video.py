import os
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase, TestCase, override_settings
from kombu.exceptions import OperationalError as BrokerError

from notes.models import VideoJob
from notes.tasks import transcode_video
from notes.tests.helpers import TempShareMixin, make_clip, probe
from notes.video import ffmpeg_command


class FfmpegCommandTests(SimpleTestCase):
    def test_arguments(self):
        self.assertEqual(
            ffmpeg_command("/share/private/videos/in.avi", "/share/tmp/out.mp4.part"),
            [
                "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                "-i", "/share/private/videos/in.avi",
                "-map", "0:v:0", "-map", "0:a:0?",
                "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2",
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-b:a", "128k",
                "-movflags", "+faststart", "-f", "mp4",
                "/share/tmp/out.mp4.part",
            ],
        )


class VideoJobTests(TempShareMixin, TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clips = tempfile.mkdtemp(prefix="djangoha-clips-")
        cls.clip = Path(make_clip(cls.clips)).read_bytes()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.clips, ignore_errors=True)
        super().tearDownClass()

    def post_video(self, name, content):
        return self.client.post("/videos/", {"file": SimpleUploadedFile(name, content)})

    def test_upload_transcode_and_serve_path(self):
        accepted = self.post_video("clip.avi", self.clip)
        self.assertEqual(accepted.status_code, 202)
        job_id = accepted.json()["id"]
        self.assertEqual(accepted.json(), {"id": job_id, "status": "queued"})

        # Tasks run eagerly in the tests: by now the "worker" has transcoded it with the real ffmpeg.
        status = self.client.get(f"/videos/{job_id}/")
        self.assertEqual(status.status_code, 200)
        body = status.json()
        started, finished = body.pop("started"), body.pop("finished")
        self.assertEqual(body, {"id": job_id, "status": "done", "output": f"/media/videos/{job_id}.mp4", "error": None, "attempts": 1})
        self.assertLessEqual(datetime.fromisoformat(started), datetime.fromisoformat(finished))

        output = os.path.join(self.share, "media", "videos", f"{job_id}.mp4")
        info = probe(output)
        self.assertIn("mp4", info["format_name"])
        self.assertEqual((info["codec_name"], info["pix_fmt"]), ("h264", "yuv420p"))
        self.assertAlmostEqual(float(info["duration"]), 1.0, delta=0.25)
        self.assertEqual(oct(os.stat(output).st_mode & 0o777), oct(0o644))

        job = VideoJob.objects.get(pk=job_id)
        self.assertEqual((job.attempts, job.worker, job.node), (1, "test-node", "test-node"))
        self.assertIsNotNone(job.finished)
        self.assertEqual(os.listdir(os.path.join(self.share, "private", "videos")), [])  # source removed
        self.assertEqual(self.leftover_temp_files(), [])

    def test_redelivered_done_job_is_skipped(self):
        job_id = self.post_video("clip.avi", self.clip).json()["id"]
        output = os.path.join(self.share, "media", "videos", f"{job_id}.mp4")
        before = os.stat(output).st_mtime_ns
        with mock.patch("notes.video.subprocess.run") as ffmpeg:
            self.assertEqual(transcode_video.apply(args=[job_id]).get(), "skipped")
        ffmpeg.assert_not_called()
        self.assertEqual(os.stat(output).st_mtime_ns, before)
        self.assertEqual(VideoJob.objects.get(pk=job_id).attempts, 1)

    def test_redelivered_running_job_runs_again(self):
        # A worker died mid-transcode: the job is "running", its message comes back (acks_late).
        with mock.patch("notes.views.transcode_video.delay"):
            job_id = self.post_video("clip.avi", self.clip).json()["id"]
        VideoJob.objects.filter(pk=job_id).update(status=VideoJob.RUNNING, attempts=1)
        self.assertEqual(transcode_video.apply(args=[job_id]).get(), "done")
        job = VideoJob.objects.get(pk=job_id)
        self.assertEqual((job.status, job.attempts), ("done", 2))
        self.assertTrue(os.path.isfile(os.path.join(self.share, "media", "videos", f"{job_id}.mp4")))

    def test_not_a_video_fails_with_ffmpeg_error(self):
        job_id = self.post_video("notes.txt", b"this is not a video").json()["id"]
        body = self.client.get(f"/videos/{job_id}/").json()
        self.assertEqual((body["status"], body["output"]), ("failed", None))
        self.assertIn("ffmpeg exited with", body["error"])
        self.assertFalse(os.path.exists(os.path.join(self.share, "media", "videos", f"{job_id}.mp4")))
        self.assertEqual(self.leftover_temp_files(), [])

    def test_missing_source_fails_clearly(self):
        job = VideoJob.objects.create(original_name="gone.avi", source="gone-0000.avi", node="n")
        self.assertEqual(transcode_video.apply(args=[job.id]).get(), "failed")
        job.refresh_from_db()
        self.assertEqual(job.status, "failed")
        self.assertIn("'gone-0000.avi' is missing", job.error)

    def test_unknown_job_is_dropped(self):
        self.assertEqual(transcode_video.apply(args=[987654]).get(), "missing")

    def test_ffmpeg_timeout_is_a_failure(self):
        with mock.patch("notes.video.subprocess.run", side_effect=subprocess.TimeoutExpired("ffmpeg", 1)):
            job_id = self.post_video("clip.avi", self.clip).json()["id"]
        body = self.client.get(f"/videos/{job_id}/").json()
        self.assertEqual(body["status"], "failed")
        self.assertIn("did not finish", body["error"])

    def test_broker_down_answers_503_and_marks_the_job(self):
        with mock.patch("notes.views.transcode_video.delay", side_effect=BrokerError("Error 111 connecting")):
            with self.assertLogs("notes.views", "ERROR"):
                response = self.post_video("clip.avi", self.clip)
        self.assertEqual(response.status_code, 503)
        job = VideoJob.objects.get(pk=response.json()["id"])
        self.assertEqual(job.status, "failed")
        self.assertIn("could not queue", job.error)

    @override_settings(VIDEO_MAX_BYTES=100)
    def test_size_limit(self):
        response = self.post_video("clip.avi", self.clip)
        self.assertEqual(response.status_code, 413)
        self.assertIn("VIDEO_MAX_BYTES", response.json()["error"])
        self.assertEqual(VideoJob.objects.count(), 0)

    def test_unknown_id_is_a_json_404(self):
        response = self.client.get("/videos/424242/")
        self.assertEqual(response.status_code, 404)
        self.assertIn("424242", response.json()["error"])
