"""The default stack: the model in llama.cpp's server, visitors decoded together."""

from __future__ import annotations

import json
import os
import threading
import uuid

import pytest
from websockets.sync.client import connect

from leads.models import Message
from llm.llama_server import server_binary

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack_env(stack_env):
    if not server_binary().is_file():
        message = f"no llama-server at {server_binary()}: run `make llama-server`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return stack_env | {"LLM_SERVER_SLOTS": "2"}  # LLM_SERVER as `make run` has it: auto


def _visitor(stack, text: str, replies: dict[str, dict]) -> None:
    url = stack.base_url.replace("http://", "ws://") + "/ws/chat/demo/"
    with connect(url, origin=stack.base_url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "visitor": None}))
        json.loads(ws.recv(timeout=10))
        ws.send(json.dumps({"type": "message", "id": str(uuid.uuid4()), "text": text}))
        deltas = []
        while (frame := json.loads(ws.recv(timeout=120)))["type"] != "reply":
            assert frame["type"] != "error", frame
            if frame["type"] == "delta":
                deltas.append(frame)
        replies[text] = {"reply": frame, "deltas": deltas}


@pytest.mark.django_db(transaction=True)
def test_two_visitors_at_once_each_get_their_own_reply_from_the_server(live_stack, demo_site):
    assert "model" in live_stack.processes  # one process holds the model for both workers
    texts = ["Hi! What does Acme Analytics sell?", "Hello, do you offer a free trial?"]
    replies: dict[str, dict] = {}
    threads = [threading.Thread(target=_visitor, args=(live_stack, t, replies)) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert sorted(replies) == sorted(texts)
    ids = set()
    for got in replies.values():
        reply = got["reply"]
        assert reply["text"] and all(d["message"] == reply["message"] for d in got["deltas"])
        stored = Message.objects.get(id=reply["message"])
        assert stored.status == Message.Status.COMPLETE and stored.text == reply["text"]
        assert stored.model_name == "SmolLM2-135M-Instruct.Q4_1"  # served by llama-server
        ids.add(stored.in_reply_to_id)
    assert len(ids) == 2  # each answers its own visitor's message


@pytest.mark.django_db(transaction=True)
def test_visitors_taking_turns_each_keep_their_conversation_in_the_server(live_stack, demo_site):
    url = live_stack.base_url.replace("http://", "ws://") + "/ws/chat/demo/"
    with (
        connect(url, origin=live_stack.base_url, open_timeout=10) as ana,
        connect(url, origin=live_stack.base_url, open_timeout=10) as ben,
    ):
        for ws in (ana, ben):
            ws.send(json.dumps({"type": "hello", "visitor": None}))
            json.loads(ws.recv(timeout=10))
        first = {"ana": _say(ana, "Hi, I'm Ana from Initech."), "ben": _say(ben, "Hello there!")}
        second = {
            "ana": _say(ana, "We need dashboards for 40 reps."),
            "ben": _say(ben, "Do you offer a free trial?"),
        }
    # Counted by llama.cpp's server: each visitor's second turn started from their first turn's
    # prompt and reply, though the other visitor's turn came in between.
    for who in ("ana", "ben"):
        assert second[who].cached_tokens >= first[who].prompt_tokens, (who, first, second)


def _say(ws, text: str) -> Message:
    ws.send(json.dumps({"type": "message", "id": str(uuid.uuid4()), "text": text}))
    while (frame := json.loads(ws.recv(timeout=120)))["type"] != "reply":
        assert frame["type"] != "error", frame
    return Message.objects.get(id=frame["message"])
