"""Fixtures for the leads tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from channels.layers import channel_layers

import llm
from leads.consumers.sites import site_cache
from leads.models import Lead, Site
from leads.services.model_calls import model_call_record
from llm.embeddings import MiniLM, minilm_path
from salesbot.celery import app as celery_app
from salesbot.embedded_redis import EmbeddedRedis
from salesbot.redis_urls import celery_broker_url
from tests.conftest import broker_url_set
from tests.leads.factories import lead_create, staff_user


@pytest.fixture(autouse=True)
def _extraction_does_not_wait(settings):  # type: ignore[no-untyped-def]
    """Replies queued here never run (no worker), so their marks would hold extraction back for
    MARK_SECONDS: only tests/leads/test_priority.py, which runs them, lets it wait."""
    settings.EXTRACTION_YIELDS_TO_REPLIES = False


@pytest.fixture(autouse=True)
def _limits_forgotten(settings):  # type: ignore[no-untyped-def]
    """Every test starts with the chat's rate counters at zero (they live in the shared Redis,
    and the tests all chat from one address)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"{settings.CELERY_TASK_DEFAULT_QUEUE}:limits*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def embedder() -> MiniLM:
    """all-MiniLM-L6-v2 (numpy), as the workers embed and retrieve with; loaded once."""
    return MiniLM(minilm_path(Path(__file__).resolve().parents[2] / "models"))


@pytest.fixture(autouse=True)
def _sites_forgotten() -> Iterator[None]:
    """The chat consumer's Sites kept per process start empty: a test's Site is rolled back
    with it, and the next test's may be another row under the same key."""
    site_cache.clear()
    yield
    site_cache.clear()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A broker of this test's own, which the test may stop; the app goes back afterwards."""
    previous = celery_app.conf.broker_url
    server = EmbeddedRedis(tmp_path / "broker.sock", persist=False).start()
    broker_url_set(celery_broker_url(server.url))
    _forget_connections()
    yield server
    server.stop()
    broker_url_set(previous)
    _forget_connections()


def _forget_connections() -> None:
    # close() drops the connection pool, but the producer pool built on it survives and would
    # keep publishing to the previous broker.
    celery_app.close()
    celery_app.amqp._producer_pool = None


@pytest.fixture
async def own_channel_layer():  # type: ignore[no-untyped-def]
    """A channel layer for this test alone, closed inside its event loop.

    channels-redis keeps receive state (a lock, a count, the loop it belongs to) on the layer
    object, and each test runs in a new event loop: a layer shared between tests can carry a
    cancelled receive from one loop into the next and hang its teardown.
    """
    channel_layers.backends.clear()
    yield
    for layer in list(channel_layers.backends.values()):
        await layer.close_pools()
    channel_layers.backends.clear()


@pytest.fixture
def site(demo_site: Site) -> Site:
    return demo_site


@pytest.fixture
def other_site(db: None) -> Site:
    """Another team's site."""
    return Site.objects.create(key="other", name="Other Co")


@pytest.fixture
def rep(site: Site):  # type: ignore[no-untyped-def]
    """A staff rep on `site`'s team only."""
    return staff_user("rita", site=site)


@pytest.fixture
def colleague(site: Site):  # type: ignore[no-untyped-def]
    """Another rep on the same team."""
    return staff_user("oscar", site=site)


@pytest.fixture
def lead(site: Site) -> Lead:
    return lead_create(site)


@pytest.fixture
def calls_kept() -> Iterator[None]:
    """Model calls stored, as a worker stores them (leads.tasks registers this at its start)."""
    llm.metrics.listen(model_call_record)
    yield
    llm.metrics.unlisten(model_call_record)


@pytest.fixture
def discount_faq(demo_site: Site) -> None:
    """The demo Site's knowledge answers "Can I get a discount?" (by its words): a model may
    write that reply, rather than the product handing it to a colleague."""
    from leads.services.knowledge import faq_entry_save

    faq_entry_save(
        site=demo_site,
        question="Is there a discount?",
        answer="A discount on yearly plans is agreed with the sales team.",
    )
