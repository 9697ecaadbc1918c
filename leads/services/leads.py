"""A lead's row, and what staff do to a lead: assign it, annotate it, erase the person's data;
and when they last looked at the list."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from leads.errors import LeadActionRefused, TextInvalid
from leads.fields import FACT_NAMES
from leads.models import Conversation, DashboardVisit, Lead, LeadEvent, Message
from leads.selectors.access import user_sees_site
from leads.services.conversations import visitor_token_new
from leads.services.history import event_record, lead_changed

if TYPE_CHECKING:
    from django.contrib.auth.models import User

NOTE_MAX_CHARS = 5000


def lead_ensure(*, conversation: Conversation) -> Lead:
    """The conversation's lead, created on first need (the visitor's first message)."""
    lead, created = Lead.objects.get_or_create(
        conversation=conversation,
        defaults={"site_id": conversation.site_id, "visitor_id": conversation.visitor_id},
    )
    if created:
        lead_changed(lead=lead)
    return lead


def _locked(lead: Lead) -> Lead:
    return Lead.objects.select_for_update(of=("self",)).select_related("owner").get(pk=lead.pk)


def lead_owner_assign(*, lead: Lead, owner: User | None, by: User | None) -> Lead:
    """Make `owner` (None: nobody) the rep who follows the lead up."""
    if owner is not None and not user_sees_site(user=owner, site_id=lead.site_id):
        raise LeadActionRefused(
            f"{owner.get_username()} is not on the team of this lead's site; "
            "add them to the site's team first."
        )
    with transaction.atomic():
        current = _locked(lead)
        if current.owner_id == (owner.pk if owner is not None else None):
            return current
        old = current.owner.get_username() if current.owner is not None else None
        current.owner = owner
        current.save(update_fields=["owner", "updated"])
        event_record(
            lead=current,
            kind=LeadEvent.Kind.OWNER,
            actor=by,
            old=old,
            new=owner.get_username() if owner is not None else None,
        )
    lead.owner, lead.updated = current.owner, current.updated
    return current


def lead_note_add(*, lead: Lead, text: str, by: User) -> LeadEvent:
    """Add a rep's note to the lead's history."""
    text = text.strip()
    if not text:
        raise TextInvalid("The note is empty.")
    if len(text) > NOTE_MAX_CHARS:
        raise TextInvalid(f"Notes can be at most {NOTE_MAX_CHARS} characters long.")
    with transaction.atomic():
        current = _locked(lead)
        if current.erased_at is not None:
            raise LeadActionRefused("This lead's personal data was erased; it takes no notes.")
        return event_record(lead=current, kind=LeadEvent.Kind.NOTE, actor=by, text=text)


def lead_erase(*, lead: Lead, by: User | None) -> Lead:
    """Erase the person behind the lead (a data subject's request); cannot be undone.

    Their facts, the evidence and its quotes, the transcript's text, notes and the history of
    values are removed, and the visitor's browser token stops working. What remains — status,
    score, dates, reply timings — holds nothing about the person, so the metrics stay true.
    """
    with transaction.atomic():
        current = _locked(lead)
        for name in FACT_NAMES:
            setattr(current, name, Lead.fact_empty(name))
        current.declined_fields = []
        current.erased_at = timezone.now()
        current.save()
        current.evidence.all().delete()
        current.events.filter(kind__in=[LeadEvent.Kind.FIELD, LeadEvent.Kind.NOTE]).delete()
        Message.objects.filter(conversation_id=current.conversation_id).update(
            text="", client_id=None
        )
        # The conversation is closed: no rep stays in it (and none can join it again).
        Conversation.objects.filter(id=current.conversation_id).update(
            agent=None,
            agent_since=None,
            summary="",  # the summary retells what was said
        )
        current.visitor.token = visitor_token_new()
        current.visitor.save(update_fields=["token"])
        event_record(lead=current, kind=LeadEvent.Kind.ERASED, actor=by)
    return current


def dashboard_seen_mark(*, user: User) -> datetime | None:
    """Record that `user` looks at the lead list now; when they looked before (None: never)."""
    now = timezone.now()
    with transaction.atomic():
        visit, created = DashboardVisit.objects.select_for_update().get_or_create(
            user=user, defaults={"seen_at": now}
        )
        if created:
            return None
        before = visit.seen_at
        visit.seen_at = now
        visit.save(update_fields=["seen_at"])
    return before
