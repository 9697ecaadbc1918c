"""The reply role as a chain behind the router, through the real processes: the chain's first
model's server is not there, so the visitor's reply comes from the next one, with nothing seen
of the failure; a simple message goes to its own tier's model."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import httpx
import pytest

from leads.models import Message, ModelCall
from tests.e2e.conftest import free_port
from tests.e2e.test_chat_round_trip import _recv, _ws

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def stack_env(stack_env, tmp_path_factory):
    config = tmp_path_factory.mktemp("llm") / "llm.yaml"
    config.write_text(
        "default_model: local\n"
        "roles:\n  reply: [gone, local]\n  extraction: local\n"
        "failover: {retries: 1, backoff_s: 0.1}\n"
        # Simple messages straight to the bundled model; the others to the reply chain.
        "router:\n  simple: {model: local, up_to: 0.2}\n  medium: {up_to: 0.5}\n"
        "models:\n"
        "  local: {backend: llama_cpp, n_ctx: 2048, template_family: chatml, capability: compose}\n"
        "  gone:\n    backend: openai_compat\n    model: mistral\n"
        f"    base_url: http://127.0.0.1:{free_port()}/v1\n    template_family: chatml\n"
        "    capability: compose\n"
    )
    return stack_env | {"LLM_CONFIG": str(config)}


def ask(stack, text: str, message_id: str) -> tuple[list[dict], dict]:
    """The visitor's widget sends `text`: the delta frames it receives, then the reply frame.
    No error frame comes: a failure the chain gets over is not the visitor's to see."""
    with _ws(stack) as ws:
        ws.send(json.dumps({"type": "hello", "visitor": None}))
        _recv(ws)
        ws.send(json.dumps({"type": "message", "id": message_id, "text": text}))
        deltas = []
        while (frame := _recv(ws))["type"] != "reply":
            assert frame["type"] != "error", frame
            if frame["type"] == "delta":
                deltas.append(frame)
    return deltas, frame


def test_a_reply_whose_first_model_is_down_comes_whole_from_the_next(live_stack, demo_site):
    deltas, frame = ask(
        live_stack, "Hi! How much does Acme Analytics cost?", "7d1b0c1e-0000-4000-8000-000000000001"
    )
    stored = Message.objects.get(id=frame["message"])
    assert stored.status == Message.Status.COMPLETE and stored.text == frame["text"]
    assert deltas and all(d["message"] == stored.id for d in deltas)
    # Recorded as the model that answered: the chain's next one (served by llama-server).
    assert stored.model_name == "SmolLM2-135M-Instruct.Q4_1"
    # A price: the medium tier, which is the reply chain.
    assert (stored.route_tier, stored.route_reasons) == ("medium", ["pricing: cost, how much"])
    # The call is on record, failover included: in the database and at /metrics, where the
    # web process adds up the worker's series.
    call = ModelCall.objects.get(conversation=stored.conversation, role="reply")
    assert (call.outcome, call.model, call.tier, call.failovers) == (
        "ok",
        "SmolLM2-135M-Instruct.Q4_1",
        "medium",
        ["gone"],
    )
    assert call.completion_tokens > 0 and call.total_ms >= (call.first_token_ms or 0) > 0
    exposed = httpx.get(f"{live_stack.base_url}/metrics").text
    assert (
        'salesbot_llm_requests_total{model="SmolLM2-135M-Instruct.Q4_1",outcome="ok",'
        'role="reply",tier="medium"} 1.0'
    ) in exposed
    assert 'salesbot_llm_failovers_total{model="gone",role="reply"} 1.0' in exposed


def test_a_simple_message_goes_to_the_simple_tiers_model(live_stack, demo_site):
    _, frame = ask(live_stack, "Hello there!", "7d1b0c1e-0000-4000-8000-000000000003")
    stored = Message.objects.get(id=frame["message"])
    assert stored.status == Message.Status.COMPLETE and stored.text
    assert (stored.route_tier, stored.route_score) == ("simple", 0.0)
    assert stored.model_name == "SmolLM2-135M-Instruct.Q4_1"


def _answered(ws, text: str, message_id: str) -> Message:
    ws.send(json.dumps({"type": "message", "id": message_id, "text": text}))
    while (frame := _recv(ws))["type"] != "reply":
        assert frame["type"] != "error", frame
    return Message.objects.get(id=frame["message"])


def test_a_model_settings_change_mid_conversation_loses_no_message(
    live_stack, demo_site, stack_env
):
    """Hot swap: the settings file changes between two messages of one conversation; the
    workers take the new settings before their next task, and both messages are answered."""
    path = Path(stack_env["LLM_CONFIG"])
    with _ws(live_stack) as ws:
        ws.send(json.dumps({"type": "hello", "visitor": None}))
        _recv(ws)
        before = _answered(ws, "Hello there!", "7d1b0c1e-0000-4000-8000-000000000004")
        path.write_text(re.sub(r"router:\n(  .*\n)*", "", path.read_text()))  # no router
        os.utime(path, ns=(time.time_ns(), time.time_ns()))
        after = _answered(ws, "And how much is it?", "7d1b0c1e-0000-4000-8000-000000000005")
    assert before.conversation_id == after.conversation_id
    assert before.route_tier == "simple" and after.route_tier == ""  # the new settings
    replies = Message.objects.filter(conversation=after.conversation, role=Message.Role.ASSISTANT)
    assert [m.status for m in replies] == [Message.Status.COMPLETE] * 2
    visitor = Message.objects.filter(conversation=after.conversation, role=Message.Role.VISITOR)
    assert visitor.count() == 2
