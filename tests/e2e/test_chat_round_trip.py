"""Widget protocol end to end: a real WebSocket client, ASGI server, Celery worker and model."""

from __future__ import annotations

import json
import uuid

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from leads.models import Message
from leads.protocol import frame_max_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _ws(stack, site="demo"):
    url = stack.base_url.replace("http://", "ws://") + f"/ws/chat/{site}/"
    return connect(url, origin=stack.base_url, open_timeout=10)


def _recv(ws, timeout=120):
    return json.loads(ws.recv(timeout=timeout))


def test_a_visitor_gets_a_streamed_reply_the_bundled_model_had_a_part_in(live_stack, demo_site):
    with _ws(live_stack) as ws:
        ws.send(json.dumps({"type": "hello", "visitor": None}))
        welcome = _recv(ws)
        assert welcome["type"] == "welcome" and welcome["history"] == []

        client_id = str(uuid.uuid4())
        # A detail given: the bundled model (capability "acknowledge") writes the first
        # sentence, the product asks the next question.
        text = "Hi, I'm Ana Torres, head of sales at Initech."
        ws.send(json.dumps({"type": "message", "id": client_id, "text": text}))
        ack = _recv(ws)
        assert (ack["type"], ack["id"]) == ("ack", client_id)

        frames = []
        while not frames or frames[-1] != {"type": "typing", "on": False}:
            frames.append(_recv(ws))
    kinds = [f["type"] for f in frames]
    assert kinds[0] == "typing" and frames[0]["on"] is True
    deltas = [f for f in frames if f["type"] == "delta"]
    (reply,) = [f for f in frames if f["type"] == "reply"]
    stored = Message.objects.get(id=reply["message"])
    streamed = "".join(d["text"] for d in deltas)
    assert deltas and all(d["message"] == reply["message"] for d in deltas)
    # Whole checked sentences only: the stored reply is exactly what streamed, nothing withdrawn.
    assert reply["text"] == streamed and streamed.endswith("?")
    assert kinds.index("reply") > kinds.index("delta")
    assert (stored.intent, stored.language) == ("detail", "en") and stored.model_name
    assert (stored.role, stored.text, stored.in_reply_to_id) == (
        "assistant",
        reply["text"],
        ack["message"],
    )

    with _ws(live_stack) as ws:
        ws.send(json.dumps({"type": "hello", "visitor": welcome["visitor"]}))
        resumed = _recv(ws)
    assert resumed["conversation"] == welcome["conversation"]
    assert [(m["id"], m["role"], m["text"]) for m in resumed["history"]] == [
        (ack["message"], "visitor", text),
        (reply["message"], "assistant", reply["text"]),
    ]


def test_a_page_on_another_origin_is_refused(live_stack, demo_site):
    url = live_stack.base_url.replace("http://", "ws://") + "/ws/chat/demo/"
    with (
        connect(url, origin="https://evil.example", open_timeout=10) as ws,
        pytest.raises(ConnectionClosed),
    ):
        ws.recv(timeout=10)
    assert ws.close_code == 4403


def _say(ws, text):
    ws.send(json.dumps({"type": "message", "id": str(uuid.uuid4()), "text": text}))
    while (frame := _recv(ws))["type"] != "reply":
        assert frame["type"] != "error", frame
    return Message.objects.get(id=frame["message"])


def test_a_conversations_next_turn_starts_from_what_the_engine_evaluated(live_stack, demo_site):
    with _ws(live_stack) as ws:
        ws.send(json.dumps({"type": "hello", "visitor": None}))
        _recv(ws)
        # Details no passage of the knowledge is about: the model writes both replies (these
        # tests run it as `compose`) and the second note carries no passages to read.
        first = _say(ws, "Hi, I'm Ana Torres from Initech.")
        second = _say(ws, "My colleague Ben Weiss will join us.")
    # Counted by llama.cpp (its server, as `make run` has it): the first turn's prompt and reply
    # were not read again,
    # only the new note and message (and the template's few tokens between turns).
    assert first.cached_tokens is not None and second.cached_tokens is not None
    assert second.cached_tokens >= first.prompt_tokens, (first.prompt_tokens, second.cached_tokens)
    assert second.prompt_tokens - second.cached_tokens < first.prompt_tokens / 2


def test_the_web_server_reads_no_frame_larger_than_the_longest_message_needs(live_stack, demo_site):
    """uvicorn closes the socket (1009) on a frame past `frame_max_bytes`, before the app reads
    it; the longest message allowed, every character escaped, still fits."""
    longest = json.dumps(
        {"type": "message", "id": str(uuid.uuid4()), "text": "\u00e9" * 2000}, ensure_ascii=True
    )
    assert len(longest) < frame_max_bytes(2000)
    with _ws(live_stack) as ws:
        ws.send(json.dumps({"type": "hello"}))
        assert _recv(ws)["type"] == "welcome"
        ws.send(longest)
        assert _recv(ws)["type"] == "ack"
        ws.send("x" * (frame_max_bytes(2000) + 1))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
