"""Sending frames through the channel layer: to every widget open on a conversation, and to the
staff dashboards."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


STAFF_GROUP = "staff"


def staff_group(site_id: int) -> str:
    """Dashboards of staff who see site `site_id` listen here."""
    return f"{STAFF_GROUP}.site.{site_id}"


def staff_send(*, site_id: int, frame: dict[str, Any]) -> None:
    """Tell every open dashboard that sees the site about a change (a lead, a message)."""
    _group_send(staff_group(site_id), frame)


def staff_user_group(user_id: int) -> str:
    """One staff user's dashboards listen here for changes to what they may see."""
    return f"{STAFF_GROUP}.user.{user_id}"


def staff_sites_changed(*, user_id: int) -> None:
    """Tell the user's open dashboards that their sites changed: they join the new sites'
    groups, leave the old ones', and refresh."""
    _group_send(staff_user_group(user_id), {"type": "sites"}, event="staff.sites")


def staff_conversation_group(conversation_id: int) -> str:
    """Dashboards watching a conversation listen here for what only staff see (suggestions)."""
    return f"{STAFF_GROUP}.conversation.{conversation_id}"


def staff_conversation_send(*, conversation_id: int, frame: dict[str, Any]) -> None:
    _group_send(staff_conversation_group(conversation_id), frame)


def frame_send(*, conversation_id: int, frame: dict[str, Any]) -> None:
    """Deliver one server frame to the conversation's group (from sync code: tasks, services).

    Best effort: live frames are a courtesy, the database is the record. A widget that missed
    them gets the stored messages in its next `welcome`.
    """
    _group_send(conversation_group(conversation_id), frame)


def _group_send(group: str, frame: dict[str, Any], *, event: str = "chat.frame") -> None:
    """`event` names the consumers' handler: "chat.frame" forwards `frame` to the client."""
    layer = get_channel_layer()
    if layer is None:  # pragma: no cover - CHANNEL_LAYERS is always configured
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": event, "frame": frame})
    except Exception:
        logger.warning("could not send a %s frame to %s", frame.get("type"), group, exc_info=True)
