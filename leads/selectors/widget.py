"""What the widget's configuration endpoint serves for a Site: look, texts, privacy, limits."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from leads.errors import LimitsInvalid, ThemeInvalid
from leads.limits import ChatLimits, limits_parse
from leads.models import Site
from leads.protocol import PROTOCOL_VERSION
from leads.theme import WidgetTheme, palette, theme_parse

logger = logging.getLogger(__name__)


def site_limits(*, site: Site) -> ChatLimits:
    """The limits `site`'s chat runs under; its message length within CHAT_MAX_MESSAGE_CHARS.

    Limits saved outside the admin's validation fall back to the defaults, with an error in
    the log, as a theme does.
    """
    try:
        limits = limits_parse(site.limits)
    except LimitsInvalid as exc:
        logger.error("site %s: invalid limits, using the defaults: %s", site.key, exc)
        limits = ChatLimits()
    cap = settings.CHAT_MAX_MESSAGE_CHARS
    return (
        limits if limits.message_chars <= cap else limits.model_copy(update={"message_chars": cap})
    )


def widget_config(*, site: Site) -> dict[str, Any]:
    """The widget's configuration for `site`, as the config endpoint serves it.

    A theme saved before it was validated (or edited outside the admin) falls back to the
    defaults, with an error in the log: a wrong colour must not take the chat off the site.
    """
    try:
        theme = theme_parse(site.theme)
    except ThemeInvalid as exc:
        logger.error("site %s: invalid theme, using the defaults: %s", site.key, exc)
        theme = WidgetTheme()
    privacy = None
    if site.privacy_notice_url or site.consent_required:
        privacy = {"url": site.privacy_notice_url, "consent_required": site.consent_required}
    return {
        "protocol": PROTOCOL_VERSION,
        "site": site.key,
        "title": theme.title or site.name,
        "greeting": site.greeting,
        "colors": palette(theme.color),
        "position": theme.position,
        "avatar_url": theme.avatar_url,
        "privacy": privacy,
        "max_chars": site_limits(site=site).message_chars,
        "heartbeat_seconds": settings.CHAT_HEARTBEAT_SECONDS,
        "reply_timeout_seconds": settings.CHAT_REPLY_TIMEOUT_SECONDS,
        "max_age_seconds": settings.WIDGET_CONFIG_MAX_AGE,
    }
