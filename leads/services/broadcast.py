"""Sending frames through the channel layer: to every widget open on a conversation, and to the
staff dashboards.

Frames leave through one publisher per process: a thread with its own event loop and its own
channel layer, so a reply streamed token by token reuses one Redis connection instead of
setting up an event loop and a connection per token (`async_to_sync` did, at a few
milliseconds each). The publisher sends in the order frames were given, and never blocks the
caller; live frames are a courtesy, the database is the record.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from typing import Any

from channels.layers import BaseChannelLayer, channel_layers
from django.conf import settings

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


def conversation_close(*, conversation_id: int) -> None:
    """Close the visitor's open sockets on the conversation (its data was erased): close code
    4410, after which the widget forgets it."""
    _group_send(conversation_group(conversation_id), {}, event="chat.erased")


class DeltaSender:
    """One reply's deltas, sent as they come but at most one frame per `interval` seconds after
    the first: the first word leaves at once, later ones in small batches, so the web process
    and the widget handle a few frames a second rather than one per token."""

    def __init__(self, *, conversation_id: int, message_id: int, interval: float) -> None:
        self.conversation_id, self.message_id, self.interval = conversation_id, message_id, interval
        self._pending: list[str] = []
        self._last: float | None = None

    def add(self, text: str) -> None:
        self._pending.append(text)
        now = time.monotonic()
        if self._last is None or now - self._last >= self.interval:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        """Send what waits (before the reply's final frame)."""
        if self._pending:
            frame = {"type": "delta", "message": self.message_id, "text": "".join(self._pending)}
            frame_send(conversation_id=self.conversation_id, frame=frame)
            self._pending = []
            self._last = time.monotonic() if now is None else now


def _group_send(group: str, frame: dict[str, Any], *, event: str = "chat.frame") -> None:
    """`event` names the consumers' handler: "chat.frame" forwards `frame` to the client."""
    _publisher.send(group, {"type": event, "frame": frame})


def frames_flush(timeout: float = 5.0) -> bool:
    """Wait until every frame given so far has been sent (or failed); False on time-out. For a
    process about to stop, and for tests that read Redis directly."""
    return _publisher.flush(timeout)


Item = tuple[str, dict[str, Any]]


class _Publisher:
    """One sender per process (a new one after a fork): a daemon thread running an event loop,
    a queue in order, and a channel layer of its own that follows CHANNEL_LAYERS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Item] | None = None
        self._layer: BaseChannelLayer | None = None
        self._layer_source: object = None  # the CHANNEL_LAYERS it was made from
        self._drain_task: asyncio.Task[None] | None = None

    def send(self, group: str, message: dict[str, Any]) -> None:
        loop, queue = self._running()
        loop.call_soon_threadsafe(queue.put_nowait, (group, message))

    def flush(self, timeout: float) -> bool:
        with self._lock:
            loop, queue = self._loop, self._queue
            if loop is None or queue is None or self._pid != os.getpid():
                return True
        done = asyncio.run_coroutine_threadsafe(queue.join(), loop)
        try:
            done.result(timeout)
        except TimeoutError:
            return False
        return True

    def _running(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[Item]]:
        with self._lock:
            if self._loop is None or self._queue is None or self._pid != os.getpid():
                # A forked child (a Celery pool process) inherits the object, not the thread.
                self._pid, self._layer = os.getpid(), None
                self._loop, self._queue = self._start()
            return self._loop, self._queue

    def _start(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[Item]]:
        loop = asyncio.new_event_loop()
        queue: asyncio.Queue[Item] = asyncio.Queue()
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            # Held: the loop keeps only a weak reference to its tasks.
            self._drain_task = loop.create_task(self._drain(queue))
            loop.call_soon(started.set)
            loop.run_forever()

        threading.Thread(target=run, name="salesbot-frames", daemon=True).start()
        started.wait()
        return loop, queue

    async def _drain(self, queue: asyncio.Queue[Item]) -> None:
        while True:
            group, message = await queue.get()
            try:
                await (await self._current_layer()).group_send(group, message)
            except Exception:
                frame = message.get("frame", {})
                kind = frame.get("type") if isinstance(frame, dict) else None
                logger.warning("could not send a %s frame to %s", kind, group, exc_info=True)
            finally:
                queue.task_done()

    async def _current_layer(self) -> BaseChannelLayer:
        """This loop's own layer, made anew when CHANNEL_LAYERS is replaced (tests replace it):
        an identity check per frame, not a comparison of the settings."""
        source = settings.CHANNEL_LAYERS
        if self._layer is None or source is not self._layer_source:
            if self._layer is not None and hasattr(self._layer, "close_pools"):
                await self._layer.close_pools()
            self._layer = channel_layers.make_backend("default")
            self._layer_source = source
        return self._layer


_publisher = _Publisher()
