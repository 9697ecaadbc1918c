"""The channel layer: channels-redis, with a connection pool that waits rather than refuses.

redis-py's own pool refuses a connection past its cap at once ("Too many connections", 100 by
default), and keeps every connection a burst opened: a reconnect storm's sockets, each joining
or leaving its conversation's group, then either failed or left the web process holding
hundreds of Redis connections, each a file descriptor a visitor's socket could use. Here at
most `max_connections` are open, and a call waits up to `timeout` seconds for a free one.
"""

from __future__ import annotations

from typing import Any

from channels_redis.core import RedisChannelLayer
from redis.asyncio import BlockingConnectionPool


class BoundedRedisChannelLayer(RedisChannelLayer):  # type: ignore[misc]  # untyped base
    def create_pool(self, index: int) -> Any:
        host = dict(self.hosts[index])
        if "address" not in host:  # a Sentinel entry: channels-redis's own pool
            return super().create_pool(index)
        return BlockingConnectionPool.from_url(host.pop("address"), **host)
