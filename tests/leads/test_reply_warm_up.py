"""Sites' system prompts evaluated before the first visitor (services.replies.reply_warm_up):
which Site goes to which place, and that a reply waiting stops it, on a real Redis."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import pytest
import redis

from leads.models import Site
from leads.services import priority, slots
from leads.services.conversations import conversation_resume_or_start
from leads.services.replies import WarmUp, reply_warm_up
from leads.services.reply_prompts import reply_prompt
from leads.services.slots import conversation_slot
from llm.backends.fake import FakeLLM
from llm.types import ChatMessage

pytestmark = pytest.mark.django_db(transaction=True)


class Warmable(FakeLLM):
    """A model that keeps prompts: warming runs a generation, as llama.cpp's backends do, in
    the places that hold none (`full`: the ones that do)."""

    def __init__(self, full: Sequence[int | None] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.full = set(full)
        self.warmed: list[tuple[int | None, str]] = []

    def warm(self, messages: Sequence[ChatMessage], *, slot: int | None = None) -> bool:
        if slot in self.full:
            return False
        self.complete(messages, max_tokens=1, cache_slot=slot)
        self.warmed.append((slot, messages[-1].content))
        return True


@pytest.fixture(autouse=True)
def _no_reply_generating(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.delete(priority._key())  # no other test's marks
    for key in client.scan_iter(f"{slots._prefix()}:*"):
        client.delete(key)  # nor leases
    time.sleep(0.3)  # a ReplyWaiting answer is kept this long at most


def _site(key: str, name: str) -> Site:
    return Site.objects.create(key=key, name=name, description=f"{name} sells things.")


def _system(site: Site) -> str:
    return reply_prompt(site=site, turns=[])[0][0].content


def test_each_slot_gets_a_site_visited_last_and_the_sites_take_turns(settings):
    settings.REPLY_SLOTS = 3
    earlier, latest, never = _site("a", "Alpha"), _site("b", "Beta"), _site("c", "Gamma")
    conversation_resume_or_start(site=earlier, visitor_token=None)
    conversation_resume_or_start(site=latest, visitor_token=None)
    model = Warmable()
    assert reply_warm_up(model=model) == WarmUp(warmed=3, gave_way=False)
    assert model.warmed == [(0, _system(latest)), (1, _system(earlier)), (2, _system(never))]
    # Only the system prompt: what every new conversation of the Site begins with.
    assert [[m.role for m in prompt] for prompt in model.prompts] == [["system"]] * 3
    assert [o.cache_slot for o in model.options_seen] == [0, 1, 2]

    never.delete()
    model = Warmable()
    assert reply_warm_up(model=model).warmed == 3
    assert model.warmed == [(0, _system(latest)), (1, _system(earlier)), (2, _system(latest))]


def test_without_slots_the_workers_own_context_gets_the_site_visited_last(settings):
    settings.REPLY_SLOTS = 0
    _site("a", "Alpha")
    latest = _site("b", "Beta")
    conversation_resume_or_start(site=latest, visitor_token=None)
    model = Warmable()
    assert reply_warm_up(model=model).warmed == 1
    assert model.warmed == [(None, _system(latest))]


def test_no_site_no_warming_and_a_model_that_keeps_nothing_warms_nothing(settings):
    settings.REPLY_SLOTS = 2
    assert reply_warm_up(model=Warmable()).warmed == 0
    _site("a", "Alpha")
    assert reply_warm_up(model=FakeLLM()) == WarmUp(warmed=0, gave_way=False)


def test_a_slot_that_holds_a_prompt_or_that_a_reply_holds_is_left_alone(settings):
    settings.REPLY_SLOTS = 3
    site = _site("a", "Alpha")
    model = Warmable(full=[1])  # the server says slot 1 holds a prompt
    with conversation_slot(41) as leased:  # and a reply streams in slot 0
        assert leased == 0
        assert reply_warm_up(model=model).warmed == 1
    assert model.warmed == [(2, _system(site))]
    # The warm-up's hold on slot 2 ended with it: a reply may have it now.
    with conversation_slot(43) as next_one:
        assert next_one is not None


def test_a_reply_generating_stops_the_warming(settings, caplog):
    settings.REPLY_SLOTS = 2
    _site("a", "Alpha")
    model = Warmable()
    with priority.reply_generating():
        assert reply_warm_up(model=model) == WarmUp(warmed=0, gave_way=True)
    assert model.warmed == [] and "gave way to a reply" in caplog.text
