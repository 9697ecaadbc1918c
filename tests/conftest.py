"""Shared fixtures: a real Redis (the server in REDIS_URL, or an embedded one) for every test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from asgiref.sync import SyncToAsync
from django.conf import settings as django_settings
from django.db import connections
from django.test import override_settings

from salesbot.celery import app as celery_app
from salesbot.embedded_redis import EmbeddedRedis
from salesbot.redis_urls import celery_broker_url, channel_layer_host
from tests.receiver import Receiver, receiving

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when set (its database is emptied first), else an embedded Redis."""
    url = os.environ.get("REDIS_URL")
    if url:
        redis.Redis.from_url(url).flushdb()
        yield url
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis") / "redis.sock", persist=False) as server:
        yield server.url


def broker_url_set(url: str) -> None:
    """Point this process's Celery app at another broker. Both keys: the app reads its
    settings from Django's under the CELERY_ namespace, and celery 5.6 answers `broker_url`
    from that key first, whatever was set on the other."""
    celery_app.conf.update({"broker_url": url, "CELERY_BROKER_URL": url})


@pytest.fixture(scope="session", autouse=True)
def _use_test_redis(redis_url: str) -> Iterator[None]:
    """Point the channel layer and Celery of this process at the test Redis."""
    layers = {
        "default": {
            "BACKEND": django_settings.CHANNEL_LAYERS["default"]["BACKEND"],
            "CONFIG": {
                "hosts": [channel_layer_host(redis_url)],
                "prefix": "salesbot-test",
                "capacity": django_settings.CHANNEL_CAPACITY,
            },
        }
    }
    broker = celery_broker_url(redis_url)
    with override_settings(CHANNEL_LAYERS=layers, CELERY_BROKER_URL=broker, REDIS_URL=redis_url):
        broker_url_set(broker)
        # Importing salesbot.asgi (at collection) warmed a producer pool up for the settings'
        # broker: drop it, or tasks are sent there.
        celery_app.close()
        celery_app.amqp._producer_pool = None
        yield


@pytest.fixture(scope="session", autouse=True)
def _orm_thread_connections_closed(django_db_setup: None) -> Iterator[None]:
    """At the end, the connections of the one thread channels runs ORM work in (the chat
    consumer's calls, kept open for DATABASE_CONN_MAX_AGE) are closed before the test database
    is dropped: PostgreSQL refuses to drop a database someone is connected to."""
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)


@pytest.fixture
def demo_site(db: None):  # type: ignore[no-untyped-def]
    from leads.services.setup import demo_site_ensure

    return demo_site_ensure()


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:  # type: ignore[no-untyped-def]
    """A webhook endpoint on loopback (tests/receiver.py), which this process's webhooks may
    reach: plain http, on an allowed network (in production, neither would be)."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with receiving() as state:
        yield state
