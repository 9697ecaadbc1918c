"""`LLM_SERVER=none`: each worker process loads the model itself, through llama-cpp-python."""

from __future__ import annotations

import json

import pytest

from leads.models import Message
from tests.e2e.test_chat_round_trip import _recv, _say, _ws

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def stack_env(stack_env):
    return stack_env | {"LLM_SERVER": "none"}


def test_the_workers_answer_from_their_own_model_and_keep_the_conversations_prefix(
    live_stack, demo_site
):
    assert "model" not in live_stack.processes
    with _ws(live_stack) as ws:
        ws.send(json.dumps({"type": "hello", "visitor": None}))
        _recv(ws)
        first = _say(ws, "Hi! What does Acme Analytics sell?")
        # A detail no passage is about: the second note carries no passages to read.
        second = _say(ws, "My name is Ana Torres.")
    # The model as config/llm.yaml names it, not the server's alias for its file.
    assert first.model_name == second.model_name != "SmolLM2-135M-Instruct.Q4_1"
    # Counted by llama.cpp in the worker (llm/backends/llama_states.py keeps the chat).
    assert second.cached_tokens >= first.prompt_tokens, (first.prompt_tokens, second.cached_tokens)
    assert second.prompt_tokens - second.cached_tokens < first.prompt_tokens / 2
    assert Message.objects.filter(role="assistant", status="complete").count() == 2
