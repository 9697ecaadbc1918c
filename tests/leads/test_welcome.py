"""What a returning widget's `welcome` holds, and the Sites a web process keeps for its sockets
(leads/consumers/sites.py), through channels' WebsocketCommunicator and the real channel layer."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from leads.consumers.sites import MAX_KEYS, site_cache
from leads.models import Conversation, Site
from leads.services.takeover import (
    agent_message_send,
    conversation_handback,
    conversation_takeover,
)
from salesbot.asgi import application
from tests.leads.factories import staff_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_channel_layer")]
ORIGIN = (b"origin", b"http://localhost:8000")


async def _open(key: str = "demo", origin: tuple[bytes, bytes] = ORIGIN) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/chat/{key}/", headers=[origin])
    connected, _ = await communicator.connect()
    assert connected  # accepted first, refused with a close code after
    return communicator


async def _hello(token: str | None = None, key: str = "demo") -> tuple[WebsocketCommunicator, dict]:
    communicator = await _open(key)
    await communicator.send_json_to({"type": "hello", "visitor": token})
    welcome = await communicator.receive_json_from(timeout=5)
    assert welcome["type"] == "welcome", welcome
    return communicator, welcome


async def _refused(key: str = "demo", origin: tuple[bytes, bytes] = ORIGIN) -> int | None:
    """The close code the socket gets at once (None: it stayed open)."""
    communicator = await _open(key, origin)
    if await communicator.receive_nothing(timeout=0.3):
        await communicator.disconnect()
        return None
    output = await communicator.receive_output()
    await communicator.disconnect()
    return int(output["code"])


async def test_a_returning_widget_learns_who_of_the_team_is_with_it(site):
    communicator, welcome = await _hello()
    await communicator.disconnect()
    conversation = await database_sync_to_async(Conversation.objects.get)(
        id=welcome["conversation"]
    )
    rep = await database_sync_to_async(staff_user)("zq-rep", site=site)
    rep.first_name = "Ana"
    await database_sync_to_async(rep.save)()
    await database_sync_to_async(conversation_takeover)(conversation=conversation, by=rep)
    await database_sync_to_async(agent_message_send)(
        conversation=conversation, text="Hello, Ana here.", by=rep
    )
    again, resumed = await _hello(welcome["visitor"])
    assert resumed["agent"] == {"name": "Ana"}
    assert [(m["role"], m["text"], m.get("name")) for m in resumed["history"]] == [
        ("agent", "Hello, Ana here.", "Ana")
    ]
    await again.disconnect()

    # A rep who gave no first name is the team; the username is never shown.
    rep.first_name = ""
    await database_sync_to_async(rep.save)()
    again, resumed = await _hello(welcome["visitor"])
    assert resumed["agent"] == {"name": site.name}
    assert resumed["history"][0]["name"] == site.name
    assert "zq-rep" not in str(resumed)
    await again.disconnect()

    await database_sync_to_async(conversation_handback)(conversation=conversation, by=rep)
    again, resumed = await _hello(welcome["visitor"])
    assert resumed["agent"] is None and len(resumed["history"]) == 1
    await again.disconnect()


async def test_a_site_changed_elsewhere_is_seen_once_its_time_is_up(site, settings):
    settings.CHAT_SITE_CACHE_SECONDS = 0.5
    assert await _refused() is None
    # A write no signal tells this process of (another process, an SQL update).
    await database_sync_to_async(Site.objects.filter(id=site.id).update)(
        allowed_origins=["https://shop.example"]
    )
    assert await _refused() is None  # kept
    await asyncio.sleep(0.6)
    assert await _refused() == 4403


async def test_a_site_saved_or_deleted_in_this_process_is_seen_at_once(site, settings):
    settings.CHAT_SITE_CACHE_SECONDS = 3600
    assert await _refused() is None
    site.allowed_origins = ["https://shop.example"]
    await database_sync_to_async(site.save)()
    assert await _refused() == 4403
    assert await _refused(origin=(b"origin", b"https://shop.example")) is None

    # Renamed: its old key no longer connects.
    site.key = "renamed"
    await database_sync_to_async(site.save)()
    assert await _refused(origin=(b"origin", b"https://shop.example")) == 4403
    assert await _refused("renamed", (b"origin", b"https://shop.example")) is None

    await database_sync_to_async(site.delete)()
    assert await _refused("renamed", (b"origin", b"https://shop.example")) == 4403


async def test_an_unknown_key_is_kept_as_unknown_until_a_site_takes_it(db, settings):
    settings.CHAT_SITE_CACHE_SECONDS = 3600
    assert await _refused("newco") == 4403
    assert await site_cache.get("newco") is None
    await database_sync_to_async(Site.objects.create)(
        key="newco", name="NewCo", allowed_origins=["http://localhost:8000"]
    )
    assert await _refused("newco") is None


async def test_sockets_arriving_together_wait_for_one_read(site, settings):
    settings.CHAT_SITE_CACHE_SECONDS = 3600
    found = await asyncio.gather(*(site_cache.get("demo") for _ in range(20)))
    assert all(f is found[0] for f in found)  # one Site object: one read
    assert found[0] is not None and found[0][0].id == site.id


async def test_off_reads_the_site_every_time(site, settings):
    settings.CHAT_SITE_CACHE_SECONDS = 0
    first, second = await site_cache.get("demo"), await site_cache.get("demo")
    assert first is not None and second is not None and first[0] is not second[0]


async def test_made_up_keys_cannot_grow_the_process_without_bound(db, settings):
    settings.CHAT_SITE_CACHE_SECONDS = 3600
    for n in range(MAX_KEYS + 5):
        site_cache._found[f"made-up-{n}"] = (1e18, None)  # as if read, without 10,000 queries
    assert await site_cache.get("another") is None
    assert len(site_cache._found) <= MAX_KEYS
