"""Turn one REDIS_URL into what Celery and channels-redis each expect."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit


def embedded_url(socket_path: Path) -> str:
    """The URL of the embedded Redis listening on a unix socket."""
    return f"unix://{socket_path}"


def celery_broker_url(redis_url: str) -> str:
    """Celery's Redis transport spells unix sockets `redis+socket://`."""
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        return f"redis+socket://{parts.path}" + (f"?{parts.query}" if parts.query else "")
    return redis_url


def channel_layer_host(redis_url: str, max_connections: int = 64) -> dict[str, object]:
    """A channels-redis host entry for `redis_url`.

    redis-py 8 reads with a 5 s socket timeout by default, as long as channels-redis's blocking
    pop (BZPOPMIN, 5 s): idle consumers then crash at random with "Timeout reading from …"
    (channels_redis#422). A longer read timeout lets the pop finish and still ends a dead link.

    `max_connections`: the most connections the process's layer opens; a call waits up to
    `timeout` seconds for one (salesbot/channel_layer.py).
    """
    return {
        "address": redis_url,
        "socket_timeout": 30,
        "socket_connect_timeout": 5,
        "max_connections": max_connections,
        "timeout": 20,
    }
