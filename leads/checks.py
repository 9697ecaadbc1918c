"""System checks of salesbot's own settings, beside Django's (`manage.py check --deploy`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def email_configured(**_: Any) -> list[checks.CheckMessage]:
    """Hand-off emails go nowhere on a production server that never set EMAIL_URL."""
    if settings.EMAIL_URL:
        return []
    return [
        checks.Warning(
            "EMAIL_URL is unset: emails to sales staff are written to the log, not sent.",
            hint="Set EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587 "
            "(docs/configuration.md).",
            id="salesbot.W001",
        )
    ]
