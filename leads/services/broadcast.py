"""Sending protocol frames to every widget open on a conversation, through the channel layer."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def frame_send(*, conversation_id: int, frame: dict[str, Any]) -> None:
    """Deliver one server frame to the conversation's group (from sync code: tasks, services).

    Best effort: live frames are a courtesy, the database is the record. A widget that missed
    them gets the stored messages in its next `welcome`.
    """
    layer = get_channel_layer()
    if layer is None:  # pragma: no cover - CHANNEL_LAYERS is always configured
        return
    try:
        async_to_sync(layer.group_send)(
            conversation_group(conversation_id), {"type": "chat.frame", "frame": frame}
        )
    except Exception:
        logger.warning(
            "could not send a %s frame to conversation %s",
            frame.get("type"),
            conversation_id,
            exc_info=True,
        )
