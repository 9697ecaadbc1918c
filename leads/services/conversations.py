"""Starting and resuming a visitor's conversation."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from leads.limits import ChatLimits
from leads.models import Conversation, Site, Visitor
from leads.services.throttle import conversation_allowed
from leads.signing import token_digest


def visitor_token_new() -> str:
    return secrets.token_urlsafe(24)


# Visitor.last_seen is kept to the hour: a widget that reconnects (every deploy, every idle
# time-out) would otherwise write a row each time it says hello.
SEEN_EVERY = timedelta(hours=1)


def _seen(visitor: Visitor) -> None:
    now = timezone.now()
    if visitor.last_seen < now - SEEN_EVERY:
        Visitor.objects.filter(id=visitor.id).update(last_seen=now)
        visitor.last_seen = now


def _visitor_resume(*, site: Site, visitor_token: str | None) -> Visitor | None:
    if not visitor_token:
        return None
    visitor = Visitor.objects.filter(site=site, token=token_digest(visitor_token)).first()
    if visitor is not None:
        _seen(visitor)
    return visitor


@transaction.atomic
def _conversation_of(
    *, site: Site, visitor: Visitor | None, visitor_token: str | None
) -> tuple[Conversation, str]:
    """The latest conversation of `visitor` (a new visitor without one), started if it has
    none; and the browser's token for it (a new one for a new visitor)."""
    if visitor is None:
        visitor_token = visitor_token_new()
        visitor = Visitor.objects.create(site=site, token=token_digest(visitor_token))
    assert visitor_token is not None
    conversation = visitor.conversations.order_by("-created").first()
    if conversation is None:
        conversation = Conversation.objects.create(site=site, visitor=visitor)
    conversation.site = site
    return conversation, visitor_token


def conversation_resume_or_start(*, site: Site, visitor_token: str | None) -> Conversation:
    """The visitor's latest conversation on `site`; a new visitor and conversation otherwise.

    A token from another site, or one that is unknown, starts afresh with a new token rather
    than failing: the widget simply stores the token the server returns.
    """
    visitor = _visitor_resume(site=site, visitor_token=visitor_token)
    return _conversation_of(site=site, visitor=visitor, visitor_token=visitor_token)[0]


def conversation_open(
    *, site: Site, visitor_token: str | None, limits: ChatLimits, address: str
) -> tuple[Conversation, str]:
    """`conversation_resume_or_start` for the chat socket, with the token the browser keeps: a
    new conversation counts against the address's hourly limit (`RateLimited`, nothing
    written), a resumed one does not."""
    # A returning widget (every reconnect): its visitor and latest conversation in one query.
    latest = (
        Conversation.objects.filter(visitor__site=site, visitor__token=token_digest(visitor_token))
        .select_related("visitor")
        .order_by("-created")
        .first()
        if visitor_token
        else None
    )
    if latest is not None and visitor_token:
        _seen(latest.visitor)
        latest.site = site  # the caller reads its name: no query for what is in hand
        return latest, visitor_token
    visitor = _visitor_resume(site=site, visitor_token=visitor_token)
    conversation_allowed(site_id=site.id, limits=limits, address=address)
    return _conversation_of(site=site, visitor=visitor, visitor_token=visitor_token)


def conversation_consent_record(*, conversation: Conversation) -> Conversation:
    """Record that the visitor accepted the Site's privacy notice, as it reads now (the URL in
    Site.privacy_notice_url, not what the client says it showed); the first time counts.

    Accepting again after the Site changed its notice records the new one. Returns the stored
    conversation; `conversation` itself is left as it was, so that a failed write never looks
    like consent.
    """
    notice = Site.objects.values_list("privacy_notice_url", flat=True).get(id=conversation.site_id)
    if conversation.consent_at is None or conversation.consent_notice != notice:
        Conversation.objects.filter(id=conversation.id, erased_at__isnull=True).update(
            consent_at=timezone.now(), consent_notice=notice
        )
    return Conversation.objects.get(id=conversation.id)
