"""/metrics: the model calls' Prometheus series, for a scraper at an allowed address only."""

from __future__ import annotations

import ipaddress
import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)


def _allowed(address: str) -> bool:
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in settings.METRICS_ALLOWED_IPS:
        try:
            if client in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a bad entry allows nobody
    return False


@require_GET
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    """Every process's series (the workers' model calls among them): no login, but only to
    the addresses of METRICS_ALLOWED_IPS (loopback by default); a request a proxy forwarded
    is served only when every address it was forwarded for is allowed too."""
    client = request.META.get("REMOTE_ADDR") or ""
    # Every hop a proxy says the request came through: a client can write the first ones.
    hops = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    refused = next((a for a in [client, *hops] if not _allowed(a)), None)
    if refused is not None:
        return JsonResponse(
            {
                "code": "metrics_forbidden",
                "detail": f"/metrics is not served to {refused or 'an unknown address'}; add the "
                "scraper's address (or network) to METRICS_ALLOWED_IPS",
            },
            status=403,
        )
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped API
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
