"""A lead's row, and what staff do to a lead: assign it, annotate it, erase the person's data;
and when they last looked at the list."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from leads.errors import ConversationErased, LeadActionRefused, TextInvalid
from leads.fields import FACT_NAMES
from leads.models import Conversation, DashboardVisit, Lead, LeadEvent, Message, Visitor
from leads.selectors.access import user_sees_site
from leads.services.broadcast import conversation_close
from leads.services.conversations import visitor_token_new
from leads.services.history import event_record, lead_changed
from leads.services.notifications import lead_erased_notify
from leads.signing import token_digest

if TYPE_CHECKING:
    from django.contrib.auth.models import User

NOTE_MAX_CHARS = 5000


def conversation_writable(*, conversation_id: int) -> None:
    """`ConversationErased` if the conversation's data was erased. Inside a transaction, the
    conversation's row stays locked until it ends, so an erasure waits for the write or the
    write sees the erasure: never half of each."""
    # Atomic: a caller outside a transaction still gets a valid (if brief) lock on PostgreSQL.
    with transaction.atomic():
        found = list(
            Conversation.objects.select_for_update()
            .filter(id=conversation_id)
            .values_list("erased_at", flat=True)
        )
    if not found or found[0] is not None:  # erased, or deleted outright
        raise ConversationErased("This conversation was erased; it takes nothing more.")


def lead_ensure(*, conversation: Conversation) -> Lead:
    """The conversation's lead, created on first need (the visitor's first message);
    `ConversationErased` once the conversation was erased, so that no fact is written back."""
    conversation_writable(conversation_id=conversation.id)
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
        # The conversation first, as every write to it locks it (conversation_writable).
        Conversation.objects.select_for_update().filter(id=lead.conversation_id).update(
            erased_at=timezone.now()
        )
        current = _locked(lead)
        for name in FACT_NAMES:
            setattr(current, name, Lead.fact_empty(name))
        current.declined_fields = []
        current.erased_at = timezone.now()
        current.save()
        current.evidence.all().delete()
        current.events.filter(
            kind__in=[LeadEvent.Kind.FIELD, LeadEvent.Kind.NOTE, LeadEvent.Kind.UNANSWERED]
        ).delete()
        # The turn notes quote the visitor's facts; withheld sentences may say their words.
        Message.objects.filter(conversation_id=current.conversation_id).update(
            text="", client_id=None, turn_note="", withheld=[]
        )
        # The conversation is closed: no rep stays in it (and none can join it again).
        Conversation.objects.filter(id=current.conversation_id).update(
            agent=None,
            agent_since=None,
            summary="",  # the summary retells what was said
        )
        current.visitor.token = token_digest(visitor_token_new())  # a token nobody holds
        current.visitor.save(update_fields=["token"])
        event_record(lead=current, kind=LeadEvent.Kind.ERASED, actor=by)
        lead_erased_notify(lead=current)
        # The visitor's open sockets close; the widget forgets the conversation.
        conversation_id = current.conversation_id
        transaction.on_commit(lambda: conversation_close(conversation_id=conversation_id))
    return current


def leads_delete(*, lead_ids: Iterable[int]) -> int:
    """Delete leads with their conversations and all that hangs on them (messages, evidence,
    history, hand-offs), and their visitors once they have no other conversation; the visitors'
    open sockets close. How many were deleted. Unlike `lead_erase`, nothing stays for the
    counts, and no `lead.erased` webhook can be sent (erase first for that)."""
    with transaction.atomic():
        rows = list(
            Conversation.objects.select_for_update()
            .filter(lead__id__in=list(lead_ids))
            .values_list("id", "visitor_id")
        )
        Conversation.objects.filter(id__in=[id_ for id_, _ in rows]).delete()
        Visitor.objects.filter(id__in={visitor for _, visitor in rows}, conversations=None).delete()
        for conversation_id, _ in rows:
            transaction.on_commit(partial(conversation_close, conversation_id=conversation_id))
    return len(rows)


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
