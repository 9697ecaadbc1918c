"""Receiving a visitor's message: stored first, then the reply is queued."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from leads import dispatch
from leads.errors import ConversationBusy, QueueUnavailable
from leads.limits import ChatLimits
from leads.models import Conversation, Message
from leads.selectors.conversations import (
    conversation_reply_in_flight,
    message_answered_by_agent,
    visitor_messages_unanswered,
)
from leads.services.extraction import (
    message_arriving_read,
    message_received_store,
    worker_passes,
)
from leads.services.history import conversation_changed
from leads.services.leads import conversation_writable
from leads.services.priority import reply_mark, reply_queued
from leads.services.throttle import message_allowed, tokens_allowed

logger = logging.getLogger(__name__)


class ReplyNotQueued(QueueUnavailable):
    """The message is stored, but its reply could not be queued (the broker is unreachable)."""

    def __init__(self, message: Message) -> None:
        super().__init__(f"message {message.id} is stored but its reply could not be queued")
        self.message = message


def reply_enqueue(message: Message, *, reply: bool = True, extract: bool = True) -> None:
    """Queue the reply and the lead extraction's model pass for `message`, side by side.

    `ReplyNotQueued` if the broker cannot take them: the visitor sends the message again, and
    both tasks are safe to run twice.
    """
    try:
        if reply:
            # Marked first: the reply may be done before a mark set after queueing it.
            reply_queued(message_id=message.id)
            dispatch.enqueue(dispatch.REPLY_GENERATE, message.id)
        if extract and worker_passes():
            dispatch.enqueue(dispatch.LEAD_EXTRACT, message.id)
    except QueueUnavailable as exc:
        reply_mark(message.id).clear()
        raise ReplyNotQueued(message) from exc


def message_receive(
    *,
    conversation: Conversation,
    text: str,
    client_id: uuid.UUID,
    limits: ChatLimits | None = None,
    address: str = "",
) -> Message:
    """Store a visitor message exactly once per client id, read it with the rules (its lead's
    facts), and queue its reply after commit. From the chat socket, a new message must keep to
    the Site's `limits` first (`_admit`); a message sent again is never refused or counted.

    A repeated client id returns the stored message, and queues its reply again if it still
    needs one (never queued, failed, or abandoned). While a rep has taken the conversation over,
    only the extraction is queued: the rep answers. Raises `ReplyNotQueued` — with the message
    committed — when the broker is unreachable, so that the client sends it again later.
    """
    existing = conversation.messages.filter(client_id=client_id).first()
    if existing is None:
        if limits is not None:
            _admit(conversation=conversation, limits=limits, address=address)
        # The rules read it before the transaction: no write lock is held while they run.
        reading = message_arriving_read(conversation=conversation, text=text)
        try:
            with transaction.atomic():
                conversation_writable(conversation_id=conversation.id)
                message = Message.objects.create(
                    conversation=conversation,
                    role=Message.Role.VISITOR,
                    text=text,
                    client_id=client_id,
                )
                message_received_store(message=message, reading=reading)
                bot = not message_answered_by_agent(message=message)
                transaction.on_commit(lambda: reply_enqueue(message, reply=bot))
                conversation_changed(conversation_id=conversation.id, site_id=conversation.site_id)
            return message
        except IntegrityError:
            # Another connection stored the same client id between our check and insert.
            existing = conversation.messages.get(client_id=client_id)
    needs_reply = visitor_messages_unanswered(
        created_after=existing.created - timedelta(seconds=1), created_before=timezone.now()
    ).filter(id=existing.id)
    if needs_reply.exists():
        reply_enqueue(existing)
    elif message_answered_by_agent(message=existing):
        # A rep answers it, but its extraction may have been lost with the first attempt.
        reply_enqueue(existing, reply=False)
    return existing


def _admit(*, conversation: Conversation, limits: ChatLimits, address: str) -> None:
    """A new message within the Site's limits: the day's model tokens (`QuotaExceeded`), the
    reply to the one before done (`ConversationBusy`), the visitor's and the address's rates
    (`RateLimited`; only messages taken are counted)."""
    tokens_allowed(site_id=conversation.site_id, limits=limits)
    if conversation_reply_in_flight(conversation=conversation):
        raise ConversationBusy(
            "The assistant is still answering your previous message; this one is sent once it has."
        )
    message_allowed(
        site_id=conversation.site_id,
        limits=limits,
        visitor_id=conversation.visitor_id,
        address=address,
    )


def replies_requeue(*, older_than: timedelta, within: timedelta) -> int:
    """Queue again every reply that was lost (a broker outage, a dead worker); how many."""
    now = timezone.now()
    unanswered = visitor_messages_unanswered(
        created_after=now - within, created_before=now - older_than
    )
    count = 0
    for message in unanswered.iterator():
        reply_enqueue(message, extract=False)  # extractions_requeue sees to those
        count += 1
    return count


def extractions_requeue(*, older_than: timedelta, within: timedelta, max_attempts: int = 3) -> int:
    """Queue again the extraction worker's reading of visitor messages that never finished (its
    task could not be queued, was lost, or raised), up to `max_attempts` begun; how many."""
    if not worker_passes():
        return 0  # the rules read each message as it is stored: nothing is queued for them
    now = timezone.now()
    lost = Message.objects.filter(
        role=Message.Role.VISITOR,
        extracted_at__isnull=True,
        extraction_attempts__lt=max_attempts,
        created__gt=now - within,
        created__lt=now - older_than,
        conversation__erased_at__isnull=True,
    )
    count = 0
    for message_id in lost.values_list("id", flat=True).iterator():
        dispatch.enqueue(dispatch.LEAD_EXTRACT, message_id)
        count += 1
    return count
