"""The chat consumer driven with arbitrary frames (hypothesis): whatever a client sends, it gets
one answer per frame, its socket stays open, and another visitor's conversation goes on."""

from __future__ import annotations

import json
import uuid

import pytest
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesbot.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_channel_layer")]
ORIGIN = (b"origin", b"http://localhost:8000")
TYPES = ["hello", "message", "consent", "identify", "ping"]

# Any character, lone surrogates and NUL included (JSON carries them as \ud800 and \u0000).
anything_text = st.text(st.characters(codec=None, categories=None), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | anything_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(anything_text, inner, max_size=4),
    max_leaves=12,
)
field_values = st.one_of(
    json_values,
    st.uuids().map(str),
    st.emails(),
    st.just("a" * 300),
    st.text(alphabet="0123456789abcdef", max_size=70),
)
frames = st.one_of(
    # Close to real frames: a known type, the protocol's field names, values of any kind.
    st.fixed_dictionaries(
        {"type": st.sampled_from(TYPES)},
        optional={
            key: field_values
            for key in ("id", "text", "visitor", "notice", "email", "name", "signature")
        },
    ).map(json.dumps),
    # Any JSON, including a "type" that is not a string or not known.
    json_values.map(json.dumps),
    # Not JSON at all (channels' test client cannot send an empty frame), or JSON nested past
    # the parser's depth.
    anything_text.filter(bool),
    st.integers(1000, 6000).map(lambda n: '{"type": "ping", "x": ' + "[" * n + "]" * n + "}"),
)


async def _ready() -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/chat/demo/", headers=[ORIGIN])
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "hello"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "welcome"
    return communicator


async def _pong(communicator: WebsocketCommunicator) -> None:
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}


@pytest.fixture
def site(site):  # type: ignore[no-untyped-def]
    """Each example opens two conversations: more than the default hourly limit allows."""
    site.limits = {"conversations_per_hour_per_ip": 100_000, "messages_per_minute_per_ip": 100_000}
    site.save()
    return site


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sent=st.lists(frames, min_size=1, max_size=6))
async def test_any_frame_gets_one_answer_and_the_socket_stays_up(site, sent):
    attacker, bystander = await _ready(), await _ready()
    try:
        for text in sent:
            await attacker.send_to(text_data=text)
            answer = await attacker.receive_json_from(timeout=5)
            assert answer["type"] in {"error", "welcome", "ack", "pong"}
            if answer["type"] == "error":
                assert answer["code"] and answer["detail"]
        assert await attacker.receive_nothing(timeout=0.05)
        await _pong(attacker)
        await _pong(bystander)
        await bystander.send_json_to({"type": "consent", "id": str(uuid.uuid4())})
        assert (await bystander.receive_json_from(timeout=5))["type"] == "ack"
    finally:
        await attacker.disconnect()
        await bystander.disconnect()
