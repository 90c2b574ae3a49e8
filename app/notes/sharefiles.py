"""Writing user files to the share so that no child ever serves half a file.

Every file is written to SHARE_ROOT/tmp first (not served by nginx), flushed, then linked or renamed
into place under MEDIA_ROOT: a reader sees either nothing or the complete file.
"""
import errno
import os
import re
import secrets
import tempfile
import unicodedata

from django.conf import settings

MAX_STEM = 80
MAX_SUFFIX = 16


def clean_component(text):
    """ASCII letters, digits, "_", "-" and "." only (accents dropped, spaces become "_")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9_.-]", "", ascii_text.strip().replace(" ", "_"))


def safe_name(original, fallback="upload"):
    """A file name safe to put in a URL and on disk: no directories, no leading dot, a random token
    so names never collide, e.g. "../../My Clip.MOV" -> "My_Clip-3f9a1c2e.MOV"."""
    base = original.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = clean_component(stem).lstrip(".-_")[:MAX_STEM] or fallback
    suffix = clean_component(suffix).strip(".")[:MAX_SUFFIX]
    token = secrets.token_hex(4)
    return f"{stem}-{token}.{suffix}" if suffix else f"{stem}-{token}"


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems (and NFS servers) refuse fsync on directories; the data is synced already
    finally:
        os.close(fd)


def new_temp_path(suffix=""):
    """A fresh, not yet existing temp path on the share (same filesystem as media, so rename is atomic)."""
    os.makedirs(settings.SHARE_TMP_DIR, mode=0o755, exist_ok=True)
    fd, path = tempfile.mkstemp(dir=settings.SHARE_TMP_DIR, prefix="incoming-", suffix=suffix + ".part")
    os.close(fd)
    return path


def publish(temp_path, final_path, replace=False):
    """Move a complete temp file into place. Without `replace`, an existing file is never overwritten
    (FileExistsError). Sets the share's file mode so nginx (www-data) can read it."""
    os.chmod(temp_path, settings.FILE_UPLOAD_PERMISSIONS)
    directory = os.path.dirname(final_path)
    os.makedirs(directory, mode=settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS, exist_ok=True)
    if replace:
        os.replace(temp_path, final_path)
    else:
        try:
            os.link(temp_path, final_path)  # atomic and refuses to overwrite
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                raise FileExistsError(final_path) from exc
            if os.path.lexists(final_path):  # filesystems without hard links: rename, name is random anyway
                raise FileExistsError(final_path) from exc
            os.rename(temp_path, final_path)
        else:
            os.unlink(temp_path)
    _fsync_dir(directory)


def save_upload(uploaded, directory, name):
    """Write a Django UploadedFile to `directory`/`name` atomically; returns the final path."""
    temp_path = new_temp_path()
    try:
        with open(temp_path, "wb") as out:
            for chunk in uploaded.chunks():
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        final_path = os.path.join(directory, name)
        publish(temp_path, final_path)
        return final_path
    finally:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
