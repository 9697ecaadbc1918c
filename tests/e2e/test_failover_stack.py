"""The reply role as a chain behind the router, through the real processes: the chain's first
model's server is not there, so the visitor's reply comes from the next one, with nothing seen
of the failure; a simple message goes to its own tier's model."""

from __future__ import annotations

import json

import pytest

from leads.models import Message
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
        "  local: {backend: llama_cpp, n_ctx: 2048, template_family: chatml}\n"
        "  gone:\n    backend: openai_compat\n    model: mistral\n"
        f"    base_url: http://127.0.0.1:{free_port()}/v1\n    template_family: chatml\n"
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


def test_a_simple_message_goes_to_the_simple_tiers_model(live_stack, demo_site):
    _, frame = ask(live_stack, "Hello there!", "7d1b0c1e-0000-4000-8000-000000000003")
    stored = Message.objects.get(id=frame["message"])
    assert stored.status == Message.Status.COMPLETE and stored.text
    assert (stored.route_tier, stored.route_score) == ("simple", 0.0)
    assert stored.model_name == "SmolLM2-135M-Instruct.Q4_1"
