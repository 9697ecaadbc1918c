"""A fresh stack: the replies' worker has the model server read the Site's system prompt into
each reply slot before any visitor comes, so a new conversation reads only its own message."""

from __future__ import annotations

import json
import os
import time

import httpx
import pytest

from leads.services.reply_prompts import reply_prompt
from leads.services.setup import demo_site_ensure
from llm.llama_server import server_binary
from tests.e2e.test_chat_round_trip import _recv, _say, _ws

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SLOTS = 2


@pytest.fixture(scope="module")
def stack_env(stack_env, django_db_blocker):
    if not server_binary().is_file():
        message = f"no llama-server at {server_binary()}: run `make llama-server`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with django_db_blocker.unblock():
        demo_site_ensure()  # there before the workers start, as `make run`'s setup has it
    return stack_env | {"LLM_SERVER_SLOTS": str(SLOTS)}


def _reply_slots_warm(base: str) -> bool:
    slots = httpx.get(f"{base}/slots", timeout=10).json()[:SLOTS]  # the last is the extraction's
    return all(s.get("n_prompt_tokens") and not s["is_processing"] for s in slots)


def test_each_new_conversation_starts_from_the_sites_prompt_read_before_any_visitor(
    live_stack, demo_site
):
    assert live_stack.model is not None
    base = live_stack.model.base_url.removesuffix("/v1")
    deadline = time.monotonic() + 120
    while not _reply_slots_warm(base):
        assert time.monotonic() < deadline, httpx.get(f"{base}/slots").json()
        time.sleep(0.2)
    system = reply_prompt(site=demo_site, turns=[], family="chatml")[0][0].content
    tokens = len(httpx.post(f"{base}/tokenize", json={"content": system}).json()["tokens"])
    firsts = []
    for text in ("Hi! What does Acme Analytics sell?", "Hello, do you offer a free trial?"):
        with _ws(live_stack) as ws:  # a new visitor, a new conversation, the next slot
            ws.send(json.dumps({"type": "hello", "visitor": None}))
            _recv(ws)
            firsts.append(_say(ws, text))
    # Counted by llama.cpp's server: neither first turn read the Site's system prompt.
    for first in firsts:
        assert first.cached_tokens >= tokens, (first.prompt_tokens, first.cached_tokens, tokens)
