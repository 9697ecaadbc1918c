"""A rep taking a conversation over from the assistant, writing to the visitor, handing it back."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from leads.errors import TakeoverRefused, TextInvalid
from leads.models import Conversation, Lead, LeadEvent, Message
from leads.services.broadcast import frame_send
from leads.services.history import conversation_changed, event_record
from leads.services.leads import lead_ensure
from leads.services.messages import ReplyNotQueued, reply_enqueue

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from leads.selectors.conversations import Rep

logger = logging.getLogger(__name__)


def agent_display_name(user: User | Rep, *, team: str) -> str:
    """How a visitor sees a rep: their first name, else `team` (the Site's name) — never the
    username, which is half of the rep's login."""
    return str(getattr(user, "first_name", "") or team)


def _locked(conversation: Conversation) -> Conversation:
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("agent")
        .get(pk=conversation.pk)
    )


def _refuse_if_erased(conversation: Conversation) -> None:
    if Lead.objects.filter(conversation=conversation, erased_at__isnull=False).exists():
        raise TakeoverRefused("This lead's personal data was erased; the conversation is closed.")


def conversation_takeover(
    *, conversation: Conversation, by: User, force: bool = False
) -> Conversation:
    """`by` joins the conversation; the assistant stops replying in it until it is handed back.

    Refused while another rep holds it, unless `force` (a manager taking it from them). A reply
    the assistant is streaming at that moment still finishes.
    """
    with transaction.atomic():
        current = _locked(conversation)
        _refuse_if_erased(current)
        if current.agent_id == by.pk:
            return current
        if current.agent is not None and not force:
            raise TakeoverRefused(
                f"{current.agent.get_full_name() or current.agent.get_username()} is already in "
                "this conversation; "
                "ask them to hand it back, or take it over from them."
            )
        current.agent, current.agent_since = by, timezone.now()
        current.save(update_fields=["agent", "agent_since"])
        event_record(lead=lead_ensure(conversation=current), kind=LeadEvent.Kind.TAKEOVER, actor=by)
        name = agent_display_name(by, team=current.site.name)
        frame = {"type": "agent", "status": "joined", "name": name}
        transaction.on_commit(lambda: frame_send(conversation_id=current.id, frame=frame))
    return current


def conversation_handback(*, conversation: Conversation, by: User) -> Conversation:
    """Give the conversation back to the assistant.

    A visitor message the rep left unanswered is answered by the assistant at once.
    """
    with transaction.atomic():
        current = _locked(conversation)
        if current.agent_id is None:
            return current
        current.agent, current.agent_since = None, None
        current.save(update_fields=["agent", "agent_since"])
        event_record(lead=lead_ensure(conversation=current), kind=LeadEvent.Kind.HANDBACK, actor=by)
        last = current.messages.exclude(status=Message.Status.FAILED).order_by("-id").first()
        transaction.on_commit(
            lambda: frame_send(
                conversation_id=current.id, frame={"type": "agent", "status": "left"}
            )
        )
        if last is not None and last.role == Message.Role.VISITOR:
            transaction.on_commit(lambda: _answer(last))
    return current


def _answer(message: Message) -> None:
    """Queue the assistant's reply to a message the rep left; with the broker down, the worker
    queues it again when it starts (`replies_requeue`)."""
    try:
        reply_enqueue(message, extract=False)
    except ReplyNotQueued:
        logger.warning("message %s waits for the assistant until the broker is back", message.id)


def agent_message_send(*, conversation: Conversation, text: str, by: User) -> Message:
    """Store the rep's message and deliver it to the visitor's widget once it is committed."""
    text = text.strip()
    if not text:
        raise TextInvalid("The message is empty.")
    limit = settings.CHAT_MAX_MESSAGE_CHARS
    if len(text) > limit:
        raise TextInvalid(f"Messages can be at most {limit} characters long.")
    with transaction.atomic():
        current = _locked(conversation)
        _refuse_if_erased(current)
        if current.agent_id != by.pk:
            raise TakeoverRefused("Take the conversation over before you write to the visitor.")
        message = Message.objects.create(
            conversation=current, role=Message.Role.AGENT, text=text, author=by
        )
        frame = {
            "type": "reply",
            "message": message.id,
            "role": "agent",
            "name": agent_display_name(by, team=current.site.name),
            "text": text,
        }
        transaction.on_commit(lambda: frame_send(conversation_id=current.id, frame=frame))
        conversation_changed(conversation_id=current.id, site_id=current.site_id)
    return message
