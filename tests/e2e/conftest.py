"""The real product on loopback: Redis, a Celery worker process and the ASGI server."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import redis
from django.db import connection

from salesbot.stack import Stack
from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(settings_dict: dict[str, object]) -> str:
    """The URL of the test database, for the server processes to share it."""
    engine = str(settings_dict["ENGINE"])
    name = str(settings_dict["NAME"])
    if engine.endswith("sqlite3"):
        return f"sqlite:///{name}"
    user = quote(str(settings_dict.get("USER") or ""))
    password = quote(str(settings_dict.get("PASSWORD") or ""))
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{name}"


@pytest.fixture(scope="module")
def live_stack(django_db_setup, django_db_blocker, redis_url: str) -> Iterator[Stack]:
    """Per module, on an emptied Redis: its worker must not pick up other tests' queued tasks."""
    redis.Redis.from_url(redis_url).flushdb()
    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        LLM_MODELS_DIR=str(ROOT / "models"),
        LLM_MAX_NEW_TOKENS="40",
        LLM_N_CTX="2048",
        CHANNELS_PREFIX="salesbot-test",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="e2e-tests",
    )
    stack = Stack(port=free_port(), env=env).start(timeout=90)
    try:
        yield stack
    finally:
        stack.stop()
