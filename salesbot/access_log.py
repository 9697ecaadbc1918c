"""One access log line per HTTP request, without its query string.

uvicorn's own access log (turned off: `--no-access-log`) writes the whole URL, and a query
string can carry what must not sit in logs: a visitor token, an email, a search of leads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

logger = logging.getLogger("salesbot.access")


class AccessLogMiddleware:
    """`<address> "<method> <path>" <status> <ms>ms`: the path only, never its query."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        logger.info(
            '%s "%s %s" %s %.0fms',
            request.META.get("REMOTE_ADDR", "-"),
            request.method,
            request.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response
