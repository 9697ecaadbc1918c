"""The chat WebSocket: parses frames, calls services, forwards the conversation's events.

Within the Site's limits (leads/limits.py): an address holds a bounded number of sockets, a
socket with nothing said either way for the idle time is closed, and the rates, the day's
model tokens and the one reply in flight are the services' to enforce.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import redis
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from leads.consumers import calls
from leads.consumers.leases import socket_leases
from leads.consumers.sites import site_cache
from leads.errors import (
    ConversationBusy,
    ConversationErased,
    IdentityChanged,
    IdentityInvalid,
    QuotaExceeded,
    RateLimited,
)
from leads.limits import ChatLimits
from leads.models import Conversation, Site
from leads.origins import origin_allowed
from leads.protocol import (
    CLOSE_ERASED,
    CLOSE_FORBIDDEN,
    CLOSE_IDLE,
    CLOSE_TOO_MANY,
    CLOSE_UNAVAILABLE,
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
from leads.services.broadcast import conversation_group
from leads.services.messages import ReplyNotQueued

logger = logging.getLogger(__name__)


class ChatConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels ships no type hints
    site: Site | None = None
    limits: ChatLimits = ChatLimits()
    address = "unknown"
    conversation: Conversation | None = None
    # When a message last went either way, and the timer that closes an idle socket and keeps
    # its lease (throttle.socket_open) alive meanwhile.
    _active_at = 0.0
    _timer: asyncio.TimerHandle | None = None
    _chores: set[asyncio.Task[None]]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Run the socket. When the channel layer loses Redis, the socket is closed with 1013
        (try again later), not dropped with a traceback: the widget reconnects with back-off
        and sends again what was not acknowledged."""
        try:
            await super().__call__(scope, receive, send)
        except redis.RedisError as exc:
            logger.warning("a chat socket lost the channel layer (Redis): %s", exc)
            if self._timer is not None:
                self._timer.cancel()  # disconnect() never runs: the lease lapses
            socket_leases.release(self.channel_name)
            with contextlib.suppress(RuntimeError, OSError):  # the client may be gone too
                await send({"type": "websocket.close", "code": CLOSE_UNAVAILABLE})

    async def dispatch(self, message: dict[str, Any]) -> None:
        """channels' dispatch without its hop into the ORM thread before every event (to close
        stale connections): each database call here does that itself (leads/asyncdb.py), and
        the hop queued every frame and every reply's delta behind the ORM work of all sockets."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        found = await site_cache.get(self.scope["url_route"]["kwargs"]["site_key"])
        # Accept first: a close before accepting is an HTTP 403 that carries no close code.
        await self.accept()
        if found is None or not origin_allowed(calls.origin(self.scope), found[0].allowed_origins):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        site, self.limits = found
        self.address = calls.address(self.scope)
        if not await calls.socket_open(
            site_id=site.id, limits=self.limits, address=self.address, channel=self.channel_name
        ):
            await self.close(code=CLOSE_TOO_MANY)
            return
        self.site, self._chores = site, set()
        socket_leases.hold(channel=self.channel_name, site_id=site.id, address=self.address)
        self._active_at = time.monotonic()
        self._timer = asyncio.get_running_loop().call_later(self._idle_left(), self._tick)

    def _idle_left(self) -> float:
        return max(0.0, self._active_at + self.limits.idle_seconds - time.monotonic())

    def _tick(self) -> None:
        """Close the socket once idle (its lease is renewed meanwhile: leases.py)."""
        if time.monotonic() - self._active_at >= self.limits.idle_seconds:
            self._timer = None
            self._chore(self.close(code=CLOSE_IDLE))
            return
        self._timer = asyncio.get_running_loop().call_later(self._idle_left(), self._tick)

    def _chore(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._chores.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._chores.discard)

    async def disconnect(self, code: int) -> None:
        # The lease first, whatever the channel layer does after: a lease left behind counts
        # against the address until it expires.
        if self.site is not None:
            if self._timer is not None:
                self._timer.cancel()
            socket_leases.release(self.channel_name)
            await calls.socket_close(
                site_id=self.site.id, address=self.address, channel=self.channel_name
            )
            self.site = None
        if self.conversation is not None:
            await self.channel_layer.group_discard(
                conversation_group(self.conversation.id), self.channel_name
            )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.site is None:
            return  # refused at connect; the close is on its way
        try:
            data = frame_decode(text_data, bytes_data, max_chars=self.limits.message_chars)
            if data["type"] != "ping":  # the widget's heartbeat is not the visitor's activity
                self._active_at = time.monotonic()
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
            await self.channel_layer.group_discard(
                conversation_group(self.conversation.id), self.channel_name
            )
            self.conversation = None
        try:
            conversation, token = await calls.conversation_resume(
                self.site, frame.visitor, self.limits, self.address
            )
        except RateLimited as exc:
            raise ProtocolError.of(exc) from None
        # Join before reading the history, so that no reply falls between the two: one
        # finished in between arrives both live and in the history (same id, no harm).
        await self.channel_layer.group_add(conversation_group(conversation.id), self.channel_name)
        self.conversation = conversation
        history, agent = await calls.history(conversation)
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
        self.conversation = await calls.consent(self._conversation(frame_id))
        await self.send_json({"type": "ack", "id": frame_id})

    async def _identify(self, frame: Identify) -> None:
        frame_id = str(frame.id)
        conversation = self._conversation(frame_id)
        self._require_consent(conversation, frame_id)
        try:
            await calls.identify(conversation, frame)
        except (IdentityInvalid, IdentityChanged) as exc:
            # The host page's mistake, told to the page: other errors are not the visitor's.
            raise ProtocolError.of(exc, frame_id, prefix="identify: ") from None
        except ConversationErased as exc:
            raise ProtocolError.of(exc, frame_id) from None
        await self.send_json({"type": "ack", "id": frame_id})

    async def _message(self, frame: ChatMessageFrame) -> None:
        frame_id = str(frame.id)
        conversation = self._conversation(frame_id)
        self._require_consent(conversation, frame_id)
        text = frame.text.strip()
        if not text:
            raise ProtocolError(ErrorCode.BAD_FRAME, "The message is empty.", frame_id)
        if len(text) > self.limits.message_chars:
            raise ProtocolError(
                ErrorCode.TOO_LONG, too_long_detail(self.limits.message_chars), frame_id
            )
        try:
            message = await calls.receive(
                conversation, frame.model_copy(update={"text": text}), self.limits, self.address
            )
        except (RateLimited, QuotaExceeded, ConversationBusy, ConversationErased) as exc:
            raise ProtocolError.of(exc, frame_id) from None
        except ReplyNotQueued:
            # Stored, but nobody will answer it yet: no ack, so the client sends it again.
            raise ProtocolError(
                ErrorCode.UNAVAILABLE,
                "Your message is saved but the assistant is unavailable; it will be sent again.",
                frame_id,
            ) from None
        # Only now, with the message committed, does the widget learn it is safe.
        await self.send_json({"type": "ack", "id": frame_id, "message": message.id})

    async def chat_erased(self, event: dict[str, Any]) -> None:
        """The conversation's data was erased: nothing more is said on this socket."""
        await self.close(code=CLOSE_ERASED)

    async def chat_frame(self, event: dict[str, Any]) -> None:
        """A frame from the conversation's group (typing, delta, reply, error)."""
        self._active_at = time.monotonic()
        await self.send_json(event["frame"])
