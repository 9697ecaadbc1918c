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
