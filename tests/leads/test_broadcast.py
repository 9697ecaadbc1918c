"""Frames leave through one publisher per process: in order, without blocking the sender, over
the real channel layer (Redis), and after a fork from the child's own publisher."""

from __future__ import annotations

import logging
import multiprocessing
import time
import uuid

import pytest
from django.test import override_settings

from leads.models import Message
from leads.services.broadcast import DeltaSender, frame_send, frames_flush
from leads.services.conversations import conversation_resume_or_start
from leads.services.messages import message_receive
from leads.services.replies import reply_generate
from llm.backends.fake import FakeLLM
from tests.leads.frames import frames_read, group_listen, reply_frames

pytestmark = pytest.mark.usefixtures("own_channel_layer")


def test_frames_arrive_in_the_order_they_were_given():
    conversation_id = 10_000 + uuid.uuid4().int % 10_000
    layer, channel = group_listen(conversation_id)
    for number in range(200):
        frame_send(conversation_id=conversation_id, frame={"type": "delta", "n": number})
    assert frames_flush(10)
    assert [f["n"] for f in frames_read(layer, channel, 200)] == list(range(200))


@pytest.mark.django_db(transaction=True)
def test_a_replys_deltas_arrive_in_order_and_join_to_the_stored_reply(demo_site):
    demo_site.reply_sentences = 8  # all of them: this is about the frames
    demo_site.save(update_fields=["reply_sentences"])
    conversation = conversation_resume_or_start(site=demo_site, visitor_token=None)
    layer, channel = group_listen(conversation.id)
    message = message_receive(conversation=conversation, text="Hello", client_id=uuid.uuid4())
    points = ("one", "two", "three", "four", "five", "six", "seven")
    text = "".join(f"Acme sells dashboards for sales teams, point {n}. " for n in points)
    reply = reply_generate(
        message_id=message.id, task_id="t", model=FakeLLM(capability="compose", replies=[text])
    )
    assert reply is not None
    frames = reply_frames(layer, channel)
    deltas = [f["text"] for f in frames if f["type"] == "delta"]
    (final,) = [f for f in frames if f["type"] == "reply"]
    assert frames[0] == {"type": "typing", "on": True}
    assert frames.index(final) > max(i for i, f in enumerate(frames) if f["type"] == "delta")
    stored = Message.objects.get(id=reply.id)
    assert "".join(deltas) == final["text"] == stored.text
    # The model's seven sentences (the eighth is the product's question), each once, in order.
    assert stored.text.startswith(text.strip() + " ") and stored.text.endswith("?")


def test_a_sender_is_not_held_up_by_an_unreachable_redis(caplog):
    closed = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:9/0"]},
        }
    }
    with override_settings(CHANNEL_LAYERS=closed), caplog.at_level(logging.WARNING):
        started = time.perf_counter()
        for _ in range(50):
            frame_send(conversation_id=1, frame={"type": "delta", "text": "x"})
        handed_over = time.perf_counter() - started
        assert frames_flush(30)
    # Fifty connection failures take seconds; handing the frames over takes far less.
    assert handed_over < 1.0
    assert any("could not send a delta frame" in r.getMessage() for r in caplog.records)


def _child_sends(conversation_id: int, done: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    frame_send(conversation_id=conversation_id, frame={"type": "delta", "from": "child"})
    done.put(frames_flush(10))


def test_a_forked_child_sends_through_a_publisher_of_its_own():
    conversation_id = 20_000 + uuid.uuid4().int % 10_000
    layer, channel = group_listen(conversation_id)
    frame_send(conversation_id=conversation_id, frame={"type": "delta", "from": "parent"})
    assert frames_flush(10)  # the parent's publisher thread is running before the fork
    context = multiprocessing.get_context("fork")
    done = context.Queue()
    child = context.Process(target=_child_sends, args=(conversation_id, done))
    child.start()
    assert done.get(timeout=30) is True
    child.join(30)
    frame_send(conversation_id=conversation_id, frame={"type": "delta", "from": "parent again"})
    assert frames_flush(10)
    assert [f["from"] for f in frames_read(layer, channel, 3)] == [
        "parent",
        "child",
        "parent again",
    ]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    frames: list[dict] = []
    monkeypatch.setattr(
        "leads.services.broadcast.frame_send", lambda **kwargs: frames.append(kwargs["frame"])
    )
    return frames


def test_the_first_delta_leaves_at_once_and_later_ones_in_batches(sent):
    deltas = DeltaSender(conversation_id=1, message_id=7, interval=60.0)
    for word in ("Hello", " there", ",", " Ana"):
        deltas.add(word)
    assert sent == [{"type": "delta", "message": 7, "text": "Hello"}]
    deltas.flush()
    assert sent[1:] == [{"type": "delta", "message": 7, "text": " there, Ana"}]
    deltas.flush()  # nothing waits: nothing is sent
    assert len(sent) == 2


def test_without_an_interval_every_delta_is_a_frame(sent):
    deltas = DeltaSender(conversation_id=1, message_id=7, interval=0.0)
    for word in ("a", "b", "c"):
        deltas.add(word)
    assert [f["text"] for f in sent] == ["a", "b", "c"]
