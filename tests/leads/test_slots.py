"""Each conversation on its own model server slot (leads/services/slots.py), on a real Redis."""

from __future__ import annotations

import logging

import pytest
import redis

from leads.services import slots
from leads.services.slots import conversation_slot


@pytest.fixture(autouse=True)
def _three_slots(settings, redis_url):
    settings.REPLY_SLOTS = 3
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{slots._prefix()}:*"):
        client.delete(key)  # no other test's leases


def _lease(conversation_id: int) -> int | None:
    with conversation_slot(conversation_id) as slot:
        return slot


def test_a_conversation_returns_to_its_slot_and_a_new_one_takes_the_least_recently_used():
    assert [_lease(1), _lease(2), _lease(3)] == [0, 1, 2]  # empty slots first
    assert _lease(1) == 0  # its own, which holds its evaluated prompt
    # Released longest ago: slot 1 (conversation 2), then slot 2 (conversation 3).
    assert _lease(4) == 1
    assert _lease(2) == 2  # its slot went to conversation 4
    assert _lease(4) == 1 and _lease(2) == 2 and _lease(1) == 0


def test_a_slot_in_use_is_not_given_out_and_with_every_one_in_use_the_server_chooses():
    with conversation_slot(1) as first, conversation_slot(1) as again:
        assert first == 0 and again not in (None, 0)  # a suggestion beside the reply
        with conversation_slot(2) as third, conversation_slot(3) as fourth:
            assert third is not None and fourth is None
    assert _lease(1) in (0, 1)  # free again


def test_a_lease_ends_by_itself_when_its_worker_is_killed(redis_url):
    with conversation_slot(1) as slot:
        ttl = redis.Redis.from_url(redis_url).ttl(f"{slots._prefix()}:busy:{slot}")
        assert 0 < ttl <= slots.BUSY_SECONDS
    assert not redis.Redis.from_url(redis_url).exists(f"{slots._prefix()}:busy:{slot}")


def test_without_slots_or_without_redis_the_server_chooses(settings, caplog):
    settings.REPLY_SLOTS = 0
    assert _lease(1) is None
    settings.REPLY_SLOTS = 3
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    with caplog.at_level(logging.WARNING):
        assert _lease(1) is None
    assert "could not choose a model slot" in caplog.text


def test_a_slot_held_apart_is_not_leased_and_a_leased_one_cannot_be_held():
    with slots.slot_hold(0) as held:
        assert held
        assert _lease(1) == 1  # not slot 0
        with slots.slot_hold(0) as again:
            assert not again  # one hold at a time
    with conversation_slot(2) as leased, slots.slot_hold(leased) as held:
        assert leased == 0  # the hold ended with its block
        assert not held  # and a reply's slot is not taken from it
