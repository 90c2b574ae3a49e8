"""ffmpeg transcoding: browser-friendly H.264/AAC MP4, written to a temp name then renamed."""
import os
import subprocess

from .sharefiles import new_temp_path, publish

ERROR_TAIL_CHARS = 2000


class TranscodeError(Exception):
    """ffmpeg failed; the message is the end of its stderr (what an operator needs to see)."""


def ffmpeg_command(source, destination):
    """The ffmpeg argument list: H.264 (yuv420p, even dimensions) + AAC in MP4 with the index at the
    front so browsers can start playing before the download ends."""
    return [
        "ffmpeg",
        "-nostdin",
        "-hide_banner",
        "-loglevel", "error",
        "-y",
        "-i", source,
        "-map", "0:v:0",
        "-map", "0:a:0?",
        "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2",
        "-c:v", "libx264",
        "-preset", "veryfast",
        "-crf", "23",
        "-pix_fmt", "yuv420p",
        "-c:a", "aac",
        "-b:a", "128k",
        "-movflags", "+faststart",
        "-f", "mp4",
        destination,
    ]


def transcode(source, final_path, timeout):
    """Transcode `source` to `final_path`; a half-written output is never visible under `final_path`."""
    temp_path = new_temp_path(suffix=".mp4")
    try:
        try:
            result = subprocess.run(
                ffmpeg_command(source, temp_path),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise TranscodeError(f"ffmpeg did not finish within {timeout} s")
        except FileNotFoundError:
            raise TranscodeError("ffmpeg is not installed on this worker (apt-get install -y ffmpeg)")
        if result.returncode != 0:
            stderr = result.stderr.decode("utf-8", "replace").strip()
            raise TranscodeError(
                f"ffmpeg exited with {result.returncode}: {stderr[-ERROR_TAIL_CHARS:] or '(no output)'}"
            )
        if os.path.getsize(temp_path) == 0:
            raise TranscodeError("ffmpeg produced an empty file")
        with open(temp_path, "rb") as written:
            os.fsync(written.fileno())
        publish(temp_path, final_path, replace=True)
    finally:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
