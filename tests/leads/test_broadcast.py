"""Frames sent from sync code (the worker) reach the group in order over one connection."""

from __future__ import annotations

import redis
from asgiref.sync import async_to_sync
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers

from leads.services.broadcast import conversation_group, frame_send


def _connections(client: redis.Redis) -> int:
    return int(client.info("stats")["total_connections_received"])


def test_a_streamed_reply_reuses_one_redis_connection(redis_url):
    # A plain sync test, as a Celery worker calls frame_send: no event loop is running here.
    listener = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)

    async def subscribe() -> str:
        channel = await listener.new_channel()
        await listener.group_add(conversation_group(42), channel)
        return channel

    channel = async_to_sync(subscribe)()
    frame_send(conversation_id=42, frame={"type": "typing", "on": True})
    probe = redis.Redis.from_url(redis_url)  # one client, so measuring opens no connection
    before = _connections(probe)
    for i in range(50):
        frame_send(conversation_id=42, frame={"type": "delta", "message": 1, "text": str(i)})
    opened = _connections(probe) - before

    async def drain() -> list[dict]:
        received = [await listener.receive(channel) for _ in range(51)]
        await listener.close_pools()
        return received

    received = async_to_sync(drain)()
    assert [m["frame"].get("text") for m in received[1:]] == [str(i) for i in range(50)]
    assert opened == 0  # the per-token sends ride the connection the first one opened
