"""JSON endpoints used by the lab's end-to-end tests (csrf_exempt API; the admin keeps CSRF)."""
import logging
import os
import secrets
import threading
import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from kombu.exceptions import OperationalError as BrokerError

from .models import NOTE_MAX_LENGTH, Note, VideoJob
from .sharefiles import clean_component, safe_name, save_upload
from .tasks import transcode_video

log = logging.getLogger(__name__)

NOTES_LIST_LIMIT = 100
# /slow/ holds a uWSGI worker for at most this long (the lab's in-flight request across a worker's replacement).
SLOW_MAX_SECONDS = 10.0
# A hung NFS mount must not hang the health check (and the uWSGI worker) until harakiri.
SHARE_CHECK_TIMEOUT = 3.0


def error(status, message):
    return JsonResponse({"error": message}, status=status)


def check_db():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure makes the node unhealthy; the detail goes to the log
        log.error("health: database check failed: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


def _probe_share(outcome):
    """Write a token to SHARE_ROOT/.health/<node>, read it back."""
    try:
        os.makedirs(settings.HEALTH_DIR, exist_ok=True)
        marker = os.path.join(settings.HEALTH_DIR, clean_component(settings.NODE_NAME).lstrip(".") or "node")
        # Per-process/thread temp name: uWSGI workers of one node check concurrently.
        temp = f"{marker}.{os.getpid()}.{threading.get_ident()}.tmp"
        token = secrets.token_hex(16)
        with open(temp, "w") as out:
            out.write(token)
            out.flush()
            os.fsync(out.fileno())
        with open(temp) as back:
            read = back.read()
        os.replace(temp, marker)
        outcome.append("ok" if read == token else "error: read back different content")
    except Exception as exc:
        outcome.append(f"error: {type(exc).__name__}: {exc}")


def check_share():
    outcome = []
    probe = threading.Thread(target=_probe_share, args=(outcome,), daemon=True, name="share-health")
    probe.start()
    probe.join(SHARE_CHECK_TIMEOUT)
    if not outcome:
        result = f"error: no answer within {SHARE_CHECK_TIMEOUT:g} s"
    else:
        result = outcome[0]
    if result != "ok":
        log.error("health: share check failed: %s", result)
    return result


@require_GET
def health(request):
    db = check_db()
    share = check_share()
    ok = db == "ok" and share == "ok"
    body = {"status": "ok" if ok else "fail", "db": db, "share": share, "node": settings.NODE_NAME}
    response = JsonResponse(body, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response


def note_json(note):
    return {"id": note.id, "text": note.text, "node": note.node, "created": note.created.isoformat()}


@csrf_exempt
@require_http_methods(["GET", "POST"])
def notes(request):
    if request.method == "GET":
        latest = Note.objects.all()[:NOTES_LIST_LIMIT]
        return JsonResponse({"notes": [note_json(n) for n in latest]})
    text = request.POST.get("text", "").strip()
    if not text:
        return error(400, "form field 'text' is missing or empty: send text=<your note>")
    if len(text) > NOTE_MAX_LENGTH:
        return error(400, f"form field 'text' has {len(text)} characters; the limit is {NOTE_MAX_LENGTH}")
    note = Note.objects.create(text=text, node=settings.NODE_NAME)
    return JsonResponse({"id": note.id, "node": note.node}, status=201)


def _uploaded(request, limit, limit_setting):
    """The multipart `file` field, or an error response."""
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return None, error(400, "multipart field 'file' is missing: send -F file=@<path>")
    if uploaded.size > limit:
        return None, error(
            413, f"file is {uploaded.size} bytes; the limit is {limit} bytes ({limit_setting} in app.env)"
        )
    return uploaded, None


@csrf_exempt
@require_POST
def upload_file(request):
    uploaded, problem = _uploaded(request, settings.UPLOAD_MAX_BYTES, "UPLOAD_MAX_BYTES")
    if problem:
        return problem
    name = safe_name(uploaded.name)
    save_upload(uploaded, os.path.join(settings.MEDIA_ROOT, "uploads"), name)
    return JsonResponse({"name": name, "url": f"{settings.MEDIA_URL}uploads/{name}"}, status=201)


def job_json(job):
    return {
        "id": job.id,
        "status": job.status,
        "output": f"{settings.MEDIA_URL}{job.output}" if job.status == VideoJob.DONE and job.output else None,
        "error": job.error or None,
        # How the job ran (at-least-once delivery: attempts > 1 means it was redelivered).
        "attempts": job.attempts,
        "started": job.started.isoformat() if job.started else None,
        "finished": job.finished.isoformat() if job.finished else None,
    }


@csrf_exempt
@require_POST
def upload_video(request):
    uploaded, problem = _uploaded(request, settings.VIDEO_MAX_BYTES, "VIDEO_MAX_BYTES")
    if problem:
        return problem
    source = safe_name(uploaded.name, fallback="video")
    save_upload(uploaded, settings.VIDEO_SOURCE_DIR, source)
    job = VideoJob.objects.create(original_name=uploaded.name[:255], source=source, node=settings.NODE_NAME)
    try:
        transcode_video.delay(job.id)
    except (BrokerError, OSError) as exc:  # broker unreachable: say so now, don't leave a job nobody runs
        log.error("video job %s: could not enqueue: %s", job.id, exc)
        message = f"could not queue the job: {type(exc).__name__}: {exc}"
        VideoJob.objects.filter(pk=job.id).update(status=VideoJob.FAILED, error=message)
        return JsonResponse({"id": job.id, "status": VideoJob.FAILED, "error": message}, status=503)
    return JsonResponse({"id": job.id, "status": VideoJob.QUEUED}, status=202)


@require_GET
def video_status(request, job_id):
    job = VideoJob.objects.filter(pk=job_id).first()
    if job is None:
        return error(404, f"video job {job_id} does not exist")
    return JsonResponse(job_json(job))


@require_GET
def slow(request):
    """Answer after `seconds` (at most SLOW_MAX_SECONDS), naming the release and the process that served the
    request: the lab proves that a request in flight while its uWSGI worker is replaced completes."""
    raw = request.GET.get("seconds", "1")
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= SLOW_MAX_SECONDS:
        return error(400, f"seconds={raw!r} is not a number from 0 to {SLOW_MAX_SECONDS:g}: send /slow/?seconds=3")
    started = time.time()
    time.sleep(seconds)
    response = JsonResponse(
        {
            "slept": seconds,
            "release": os.environ.get("DJANGO_HA_RELEASE", ""),
            "pid": os.getpid(),
            "started": started,
            "finished": time.time(),
        }
    )
    response["Cache-Control"] = "no-store"
    return response
