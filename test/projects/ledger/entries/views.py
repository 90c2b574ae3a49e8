import json
import os

import ledgerfmt
import markdown
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .models import Entry
from .tasks import book_entry


@require_GET
def health(request):
    """django-ha:app.healthPath: 200 when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any database failure is "unhealthy"
        return HttpResponse(f"database unavailable: {type(exc).__name__}\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
def index(request):
    total = Entry.objects.aggregate(total=Sum("amount_cents"))["total"] or 0
    return render(
        request,
        "entries/index.html",
        {
            # Set by django-ha when the process started (the release it runs).
            "release": os.environ.get("DJANGO_HA_RELEASE", "none"),
            "marker": ledgerfmt.MARKER,
            "total": ledgerfmt.format_amount(total, settings.LEDGER_CURRENCY),
            # python3-markdown comes from django-ha:app.debianPackages.
            "intro": markdown.markdown("A *ledger* on django-ha."),
            "signing_key_set": settings.LEDGER_SIGNING_KEY_SET,
        },
    )


@csrf_exempt
@require_POST
def create_entry(request):
    """The write endpoint (read-only mode answers it with 503 before it gets here)."""
    try:
        body = json.loads(request.body or b"{}")
        entry = Entry.objects.create(amount_cents=int(body["amount_cents"]), note=str(body.get("note", ""))[:200])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": 'send JSON {"amount_cents": <int>, "note": "..."}'}, status=400)
    book_entry.delay(entry.pk)
    return JsonResponse({"id": entry.pk, "amount": ledgerfmt.format_amount(entry.amount_cents, settings.LEDGER_CURRENCY)}, status=201)


@require_GET
def entry(request, entry_id):
    e = Entry.objects.filter(pk=entry_id).first()
    if e is None:
        return JsonResponse({"error": "no such entry"}, status=404)
    return JsonResponse({"id": e.pk, "amount_cents": e.amount_cents, "booked_by": e.booked_by})
