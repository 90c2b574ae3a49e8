import os
import shutil
import subprocess
import tempfile

from django.test import override_settings


class TempShareMixin:
    """Each test gets its own empty share (SHARE_ROOT and the paths under it)."""

    def setUp(self):
        super().setUp()
        self.share = tempfile.mkdtemp(prefix="djangoha-share-")
        self.addCleanup(shutil.rmtree, self.share, ignore_errors=True)
        override = override_settings(
            SHARE_ROOT=self.share,
            MEDIA_ROOT=os.path.join(self.share, "media"),
            STATIC_ROOT=os.path.join(self.share, "static"),
            SHARE_TMP_DIR=os.path.join(self.share, "tmp"),
            VIDEO_SOURCE_DIR=os.path.join(self.share, "private", "videos"),
            HEALTH_DIR=os.path.join(self.share, ".health"),
        )
        override.enable()
        self.addCleanup(override.disable)

    def leftover_temp_files(self):
        tmp = os.path.join(self.share, "tmp")
        return sorted(os.listdir(tmp)) if os.path.isdir(tmp) else []


def make_clip(directory, seconds=1):
    """A tiny real video (MPEG-4 part 2 in AVI) from ffmpeg's test source."""
    path = os.path.join(directory, "clip.avi")
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=160x120:rate=10",
            "-c:v", "mpeg4", path,
        ],
        check=True,
        timeout=60,
    )
    return path


def probe(path):
    """ffprobe's view of a file: container format, first video codec and duration in seconds."""
    out = subprocess.run(
        [
            "ffprobe", "-v", "error", "-select_streams", "v:0",
            "-show_entries", "format=format_name,duration:stream=codec_name,pix_fmt",
            "-of", "default=noprint_wrappers=1", path,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    return dict(line.split("=", 1) for line in out.strip().splitlines())
