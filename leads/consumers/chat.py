"""The chat WebSocket: parses frames, calls services, forwards the conversation's events."""

from __future__ import annotations

import logging
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from leads.asyncdb import database_call
from leads.errors import IdentityInvalid
from leads.models import Conversation, Message, Site
from leads.origins import origin_allowed
from leads.protocol import (
    CLOSE_FORBIDDEN,
    ChatMessageFrame,
    Consent,
    ErrorCode,
    Hello,
    Identify,
    Ping,
    ProtocolError,
    frame_decode,
    frame_validate,
    too_long_detail,
)
from leads.selectors.conversations import (
    conversation_agent,
    conversation_history,
    site_get_by_key,
)
from leads.services.broadcast import conversation_group
from leads.services.conversations import (
    conversation_consent_record,
    conversation_resume_or_start,
)
from leads.services.facts import lead_identify
from leads.services.messages import ReplyNotQueued, message_receive
from leads.services.takeover import agent_display_name

logger = logging.getLogger(__name__)


@database_call
def _site(key: str) -> Site | None:
    return site_get_by_key(key=key)


@database_call
def _resume(site: Site, token: str | None) -> tuple[Conversation, str]:
    conversation = conversation_resume_or_start(site=site, visitor_token=token)
    return conversation, conversation.visitor.token


@database_call
def _history(conversation: Conversation) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """The stored messages the widget shows, and the rep in the conversation (None: the bot)."""
    history = conversation_history(conversation=conversation, limit=settings.CHAT_HISTORY_LIMIT)
    agent = conversation_agent(conversation=conversation)
    return [_message_json(m) for m in history], (
        {"name": agent_display_name(agent)} if agent is not None else None
    )


@database_call
def _receive(conversation: Conversation, frame: ChatMessageFrame) -> Message:
    return message_receive(conversation=conversation, text=frame.text, client_id=frame.id)


@database_call
def _consent(conversation: Conversation, frame: Consent) -> Conversation:
    return conversation_consent_record(conversation=conversation, notice=frame.notice)


@database_call
def _identify(conversation: Conversation, frame: Identify) -> None:
    lead_identify(
        conversation=conversation, email=frame.email, name=frame.name, signature=frame.signature
    )


def _message_json(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": message.id,
        "role": message.role,
        "text": message.text,
        "created": message.created.isoformat(),
    }
    if message.client_id is not None:
        # Lets a client whose ack was lost match the stored message to the one it shows.
        out["client_id"] = str(message.client_id)
    if message.role == Message.Role.AGENT and message.author is not None:
        out["name"] = agent_display_name(message.author)
    return out


def _origin(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return str(value.decode("latin-1"))
    return None


class ChatConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels ships no type hints
    site: Site | None = None
    conversation: Conversation | None = None

    async def connect(self) -> None:
        site = await _site(self.scope["url_route"]["kwargs"]["site_key"])
        # Accept first: a close before accepting is an HTTP 403 that carries no close code.
        await self.accept()
        if site is None or not origin_allowed(_origin(self.scope), site.allowed_origins):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.site = site

    async def disconnect(self, code: int) -> None:
        if self.conversation is not None:
            await self.channel_layer.group_discard(
                conversation_group(self.conversation.id), self.channel_name
            )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.site is None:
            return  # refused at connect; the close is on its way
        try:
            data = frame_decode(text_data, bytes_data, max_chars=settings.CHAT_MAX_MESSAGE_CHARS)
            await self._dispatch(data)
        except ProtocolError as exc:
            await self.send_json(exc.frame())

    async def _dispatch(self, data: dict[str, Any]) -> None:
        frame = frame_validate(data)
        kind = data["type"]
        frame_id = str(getattr(frame, "id", "")) or None
        try:
            if isinstance(frame, Ping):
                await self.send_json({"type": "pong"})
            elif isinstance(frame, Hello):
                await self._hello(frame)
            elif isinstance(frame, ChatMessageFrame):
                await self._message(frame)
            elif isinstance(frame, Consent):
                await self._consent(frame)
            elif isinstance(frame, Identify):
                await self._identify(frame)
        except ProtocolError:
            raise
        except Exception:
            # A database outage or a bug must not close the socket: the widget would reconnect
            # and send the same frame again, in a loop. "unavailable": the widget retries.
            logger.exception("handling a %r frame failed", kind)
            raise ProtocolError(
                ErrorCode.UNAVAILABLE, "The server could not handle this just now; retry.", frame_id
            ) from None

    async def _hello(self, frame: Hello) -> None:
        assert self.site is not None
        if self.conversation is not None:
            await self.disconnect(0)
        conversation, token = await _resume(self.site, frame.visitor)
        # Join before reading the history, so that no reply falls between the two: one
        # finished in between arrives both live and in the history (same id, no harm).
        await self.channel_layer.group_add(conversation_group(conversation.id), self.channel_name)
        self.conversation = conversation
        history, agent = await _history(conversation)
        await self.send_json(
            {
                "type": "welcome",
                "visitor": token,
                "conversation": conversation.id,
                "consent": conversation.consent_at.isoformat() if conversation.consent_at else None,
                "agent": agent,
                "history": history,
            }
        )

    def _conversation(self, frame_id: str) -> Conversation:
        """The conversation of this connection, once `hello` has been answered."""
        if self.conversation is None:
            raise ProtocolError(
                ErrorCode.NOT_READY, 'Send a "hello" frame before any other.', frame_id
            )
        return self.conversation

    def _require_consent(self, conversation: Conversation, frame_id: str) -> None:
        assert self.site is not None
        if self.site.consent_required and conversation.consent_at is None:
            raise ProtocolError(
                ErrorCode.CONSENT_REQUIRED,
                "Please accept the privacy notice before you send a message.",
                frame_id,
            )

    async def _consent(self, frame: Consent) -> None:
        frame_id = str(frame.id)
        self.conversation = await _consent(self._conversation(frame_id), frame)
        await self.send_json({"type": "ack", "id": frame_id})

    async def _identify(self, frame: Identify) -> None:
        frame_id = str(frame.id)
        conversation = self._conversation(frame_id)
        self._require_consent(conversation, frame_id)
        try:
            await _identify(conversation, frame)
        except IdentityInvalid as exc:
            # The host page's mistake, told to the page: other errors are not the visitor's.
            raise ProtocolError.of(exc, frame_id, prefix="identify: ") from None
        await self.send_json({"type": "ack", "id": frame_id})

    async def _message(self, frame: ChatMessageFrame) -> None:
        frame_id = str(frame.id)
        conversation = self._conversation(frame_id)
        self._require_consent(conversation, frame_id)
        text = frame.text.strip()
        if not text:
            raise ProtocolError(ErrorCode.BAD_FRAME, "The message is empty.", frame_id)
        if len(text) > settings.CHAT_MAX_MESSAGE_CHARS:
            raise ProtocolError(
                ErrorCode.TOO_LONG, too_long_detail(settings.CHAT_MAX_MESSAGE_CHARS), frame_id
            )
        try:
            message = await _receive(conversation, frame.model_copy(update={"text": text}))
        except ReplyNotQueued:
            # Stored, but nobody will answer it yet: no ack, so the client sends it again.
            raise ProtocolError(
                ErrorCode.UNAVAILABLE,
                "Your message is saved but the assistant is unavailable; it will be sent again.",
                frame_id,
            ) from None
        # Only now, with the message committed, does the widget learn it is safe.
        await self.send_json({"type": "ack", "id": frame_id, "message": message.id})

    async def chat_frame(self, event: dict[str, Any]) -> None:
        """A frame from the conversation's group (typing, delta, reply, error)."""
        await self.send_json(event["frame"])
