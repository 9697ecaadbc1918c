"""The chat consumer's calls into the domain: each runs one service or selector in the thread
channels keeps for ORM work, and returns plain values the consumer sends."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings

from leads.asyncdb import database_call
from leads.limits import ChatLimits
from leads.models import Conversation, Message, Site
from leads.protocol import ChatMessageFrame, Identify
from leads.selectors.conversations import Rep, conversation_shown, site_get_by_key
from leads.selectors.widget import site_limits
from leads.services import throttle
from leads.services.conversations import conversation_consent_record, conversation_open
from leads.services.facts import lead_identify
from leads.services.messages import message_receive
from leads.services.takeover import agent_display_name


@database_call
def site_with_limits(key: str) -> tuple[Site, ChatLimits] | None:
    site = site_get_by_key(key=key)
    return None if site is None else (site, site_limits(site=site))


@database_call
def conversation_resume(
    site: Site, token: str | None, limits: ChatLimits, address: str
) -> tuple[Conversation, str]:
    return conversation_open(site=site, visitor_token=token, limits=limits, address=address)


@database_call
def history(conversation: Conversation) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """The stored messages the widget shows, and the rep in the conversation (None: the bot)."""
    rows, agent = conversation_shown(
        conversation_id=conversation.id, limit=settings.CHAT_HISTORY_LIMIT
    )
    team = conversation.site.name
    return [message_json(row, team=team) for row in rows], (
        {"name": agent_display_name(agent, team=team)} if agent is not None else None
    )


@database_call
def receive(
    conversation: Conversation, frame: ChatMessageFrame, limits: ChatLimits, address: str
) -> Message:
    return message_receive(
        conversation=conversation,
        text=frame.text,
        client_id=frame.id,
        limits=limits,
        address=address,
    )


@database_call
def consent(conversation: Conversation) -> Conversation:
    # The frame's `notice` is not taken at its word: the Site's own notice is what is recorded.
    return conversation_consent_record(conversation=conversation)


@database_call
def identify(conversation: Conversation, frame: Identify) -> None:
    lead_identify(
        conversation=conversation,
        email=frame.email,
        name=frame.name,
        user_id=frame.user_id,
        expires=frame.expires,
        signature=frame.signature,
    )


# Redis alone, no ORM: off the ORM thread, so that a burst of connections does not queue
# behind database work.
socket_open = sync_to_async(throttle.socket_open, thread_sensitive=False)
sockets_renew = sync_to_async(throttle.sockets_renew, thread_sensitive=False)
socket_close = sync_to_async(throttle.socket_close, thread_sensitive=False)


def message_json(row: dict[str, Any], *, team: str) -> dict[str, Any]:
    """A message as `welcome` lists it, from its row (selectors' SHOWN_FIELDS)."""
    out: dict[str, Any] = {
        "id": row["id"],
        "role": row["role"],
        "text": row["text"],
        "created": row["created"].isoformat(),
    }
    if row["client_id"] is not None:
        # Lets a client whose ack was lost match the stored message to the one it shows.
        out["client_id"] = str(row["client_id"])
    if row["role"] == Message.Role.AGENT and row["author__first_name"] is not None:
        out["name"] = agent_display_name(Rep(row["author__first_name"]), team=team)
    return out


def origin(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return str(value.decode("latin-1"))
    return None


def address(scope: dict[str, Any]) -> str:
    """The client's network address (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
