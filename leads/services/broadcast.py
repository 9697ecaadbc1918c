"""Sending protocol frames to every widget open on a conversation, through the channel layer."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

from channels.layers import DEFAULT_CHANNEL_LAYER, BaseChannelLayer, channel_layers

logger = logging.getLogger(__name__)
SEND_TIMEOUT = 10.0


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


class _Broadcaster:
    """One event loop and one channel layer per process, for sends from sync code.

    `async_to_sync` would make a new event loop per call, and channels-redis keeps its
    connection pools per loop: the worker opened a Redis connection for every token.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._layer: BaseChannelLayer | None = None

    def _started(self) -> tuple[asyncio.AbstractEventLoop, BaseChannelLayer]:
        with self._lock:
            # A forked worker process inherits the object but not the thread: start afresh.
            if self._loop is None or self._layer is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="broadcast", daemon=True).start()
                self._loop, self._pid = loop, os.getpid()
                self._layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
            return self._loop, self._layer

    def group_send(self, group: str, message: dict[str, Any]) -> None:
        loop, layer = self._started()
        future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
        future.result(timeout=SEND_TIMEOUT)


_broadcaster = _Broadcaster()


def frame_send(*, conversation_id: int, frame: dict[str, Any]) -> None:
    """Deliver one server frame to the conversation's group (from sync code: tasks, services).

    Best effort: live frames are a courtesy, the database is the record. A widget that missed
    them gets the stored messages in its next `welcome`.
    """
    try:
        _broadcaster.group_send(
            conversation_group(conversation_id), {"type": "chat.frame", "frame": frame}
        )
    except Exception:
        logger.warning(
            "could not send a %s frame to conversation %s",
            frame.get("type"),
            conversation_id,
            exc_info=True,
        )
