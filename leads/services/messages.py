"""Receiving a visitor's message: stored first, then the reply is queued."""

from __future__ import annotations

import logging
import uuid

from django.db import IntegrityError, transaction

from leads.models import Conversation, Message

logger = logging.getLogger(__name__)


def _reply_enqueue(message_id: int) -> None:
    from leads.tasks import reply_generate_task

    try:
        reply_generate_task.delay(message_id)
    except Exception:
        # The message is committed; a later re-send of the same client id enqueues it again.
        logger.exception("could not enqueue the reply to message %s", message_id)


def message_receive(*, conversation: Conversation, text: str, client_id: uuid.UUID) -> Message:
    """Store a visitor message exactly once per client id and queue its reply after commit.

    A repeated client id returns the stored message; its reply is queued again only if no reply
    was ever started, so a message whose first enqueue was lost still gets an answer.
    """
    existing = conversation.messages.filter(client_id=client_id).first()
    if existing is None:
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    conversation=conversation,
                    role=Message.Role.VISITOR,
                    text=text,
                    client_id=client_id,
                )
                transaction.on_commit(lambda: _reply_enqueue(message.id))
            return message
        except IntegrityError:
            # Another connection stored the same client id between our check and insert.
            existing = conversation.messages.get(client_id=client_id)
    if not Message.objects.filter(in_reply_to=existing).exists():
        _reply_enqueue(existing.id)
    return existing
