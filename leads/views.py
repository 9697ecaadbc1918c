"""HTTP interfaces: health check and the demo page."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

DEMO_SITE_KEY = "demo"


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 once the app is up and its database answers; 503 otherwise."""
    try:
        connection.ensure_connection()
    except DatabaseError:
        logger.exception("health check: the database does not answer")
        return JsonResponse({"status": "unavailable", "detail": "database"}, status=503)
    return JsonResponse({"status": "ok"})


@require_GET
def demo(request: HttpRequest) -> HttpResponse:
    """A host page that embeds the widget the way a customer's site would."""
    return render(request, "demo.html", {"site_key": request.GET.get("site", DEMO_SITE_KEY)})
