"""The public HTTP API: health check and the widget's configuration."""

from __future__ import annotations

import hashlib
import json
import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_GET

from leads.origins import origin_allowed
from leads.selectors.conversations import site_get_by_key
from leads.selectors.widget import widget_config

logger = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 once the app is up and its database answers; 503 otherwise."""
    try:
        connection.ensure_connection()
    except DatabaseError:
        logger.exception("health check: the database does not answer")
        return JsonResponse({"status": "unavailable", "detail": "database"}, status=503)
    return JsonResponse({"status": "ok"})


def _refusal(code: str, detail: str, status: int) -> JsonResponse:
    response = JsonResponse({"code": code, "detail": detail}, status=status)
    # Readable from any page, so that the widget can say in the console why it stays off.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def widget_config_view(request: HttpRequest, site_key: str) -> HttpResponse:
    """The widget's look, texts and limits, for pages on the Site's allowed origins (CORS).

    A request with no Origin is not a cross-origin browser request (curl, a same-origin page):
    it is answered, since nothing here is secret; the WebSocket enforces the origins.
    """
    site = site_get_by_key(key=site_key)
    if site is None:
        return _refusal("unknown_site", f"No site has the key {site_key!r}; check data-site.", 404)
    origin = request.headers.get("Origin")
    if origin is not None and not origin_allowed(origin, site.allowed_origins):
        return _refusal(
            "origin_not_allowed",
            f"{origin} may not embed this chat; add it to the site's allowed origins.",
            403,
        )
    body = json.dumps(widget_config(site=site), separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    response: HttpResponse = HttpResponse(body, content_type="application/json")
    response.headers["ETag"] = etag
    patch_cache_control(response, public=True, max_age=settings.WIDGET_CONFIG_MAX_AGE)
    patch_vary_headers(response, ["Origin"])
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
    return get_conditional_response(request, etag=etag, response=response) or response
