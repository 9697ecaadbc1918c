"""Reading what the reply path sends a conversation's widgets, off the real channel layer."""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from leads.services.broadcast import conversation_group, staff_conversation_group


def group_listen(conversation_id: int, *, staff: bool = False) -> tuple[Any, str]:
    """A channel of the conversation's group, as a widget's consumer has (`staff`: of its
    staff group, as a dashboard watching it has)."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    group = (staff_conversation_group if staff else conversation_group)(conversation_id)
    async_to_sync(layer.group_add)(group, channel)
    return layer, channel


def frames_read(layer: Any, channel: str, count: int) -> list[dict[str, Any]]:
    """The next `count` frames the channel receives."""

    async def read() -> list[dict[str, Any]]:
        return [(await asyncio.wait_for(layer.receive(channel), 10))["frame"] for _ in range(count)]

    return async_to_sync(read)()


def suggestion_frames(layer: Any, channel: str) -> list[dict[str, Any]]:
    """Every frame of one suggestion, up to the one marked done."""
    frames = frames_read(layer, channel, 1)
    while not frames[-1]["done"]:
        frames += frames_read(layer, channel, 1)
    return frames


def reply_frames(layer: Any, channel: str) -> list[dict[str, Any]]:
    """Every frame of one reply: from typing on to typing off, after the final one."""
    frames: list[dict[str, Any]] = []
    while len(frames) < 3 or frames[-1] != {"type": "typing", "on": False}:
        frames += frames_read(layer, channel, 1)
    return frames
