"""Replies first: background extraction gives the model up to a reply, on a real Redis."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import redis

import llm
from leads.models import Message
from leads.services import priority
from leads.services.conversations import conversation_resume_or_start
from leads.services.extraction import message_facts_extract
from leads.services.messages import message_receive
from leads.services.replies import reply_generate
from llm.backends.fake import FakeLLM
from llm.types import ChatMessage, Finish, JsonSchema, Options, Usage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _replies_first(settings, redis_url):
    settings.EXTRACTION_YIELDS_TO_REPLIES = True
    redis.Redis.from_url(redis_url).delete(priority._key())  # no other test's marks


ANSWER = "{" + " " * 40 + "}"  # nothing found, written slowly


class SlowLLM(FakeLLM):
    """Writes `answer` a character at a time, slowly, as a model on a busy CPU would."""

    def __init__(self, answer: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answer = answer
        self.started = threading.Event()
        self.runs = 0

    def _generate(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> Iterator[str | Finish]:
        self.runs += 1
        self.started.set()
        for char in self.answer:
            time.sleep(0.01)
            yield char
        yield Finish(usage=Usage(10, len(self.answer)))


def test_a_background_generation_does_not_start_while_work_that_goes_first_waits():
    model = FakeLLM(replies=["never"])
    with pytest.raises(llm.Preempted), llm.background(lambda: True):
        model.complete([ChatMessage("user", "hi")])
    assert model.prompts == []


def test_a_background_generation_stops_between_tokens_when_asked():
    model = FakeLLM(replies=["one two three four five six"])
    asked = iter([False, False, False, True])
    with pytest.raises(llm.Preempted), llm.background(lambda: next(asked, True)):
        list(model.stream([ChatMessage("user", "hi")]))


def test_a_reply_queued_while_extraction_runs_starts_first(demo_site, caplog):
    conversation = conversation_resume_or_start(site=demo_site, visitor_token=None)
    message = message_receive(conversation=conversation, text="Hello", client_id=uuid.uuid4())
    priority.reply_mark(message.id).clear()  # as if its reply had been written long ago
    extractor = SlowLLM(ANSWER)
    events: list[str] = []

    def extract() -> None:
        message_facts_extract(message_id=message.id, extractor="model", model=extractor)
        events.append("extraction done")

    thread = threading.Thread(target=extract)
    thread.start()
    assert extractor.started.wait(10)  # the extraction is generating
    replier = SlowLLM("Hello! Good to see you.", capability="compose")
    reply = reply_generate(message_id=message.id, task_id="t", model=replier)
    events.append("reply done")
    thread.join(30)
    assert reply is not None and reply.text.startswith("Hello! Good to see you. ")
    # The reply did not wait for the extraction: the extraction gave way and ran again after.
    assert events == ["reply done", "extraction done"]
    assert extractor.runs == 2 and "gave way to a reply" in caplog.text
    assert Message.objects.get(id=reply.id).status == Message.Status.COMPLETE


def test_a_reply_mark_outlives_a_dead_worker_only_briefly(monkeypatch):
    monkeypatch.setattr(priority, "MARK_SECONDS", 0.2)
    mark = priority.ReplyMark()
    mark.refresh(force=True)  # and never cleared: its worker was killed
    assert priority.replies_generating() == 1
    time.sleep(0.3)
    assert priority.replies_generating() == 0


def test_without_yielding_the_background_work_just_runs(settings):
    settings.EXTRACTION_YIELDS_TO_REPLIES = False
    with priority.reply_generating():
        assert priority.background_run(lambda: "ran", what="test") == "ran"


def test_an_extraction_queued_beside_a_reply_waits_for_it(demo_site):
    conversation = conversation_resume_or_start(site=demo_site, visitor_token=None)
    # Stored and queued as the consumer does: the reply's mark is set before it is queued.
    message = message_receive(conversation=conversation, text="Hello", client_id=uuid.uuid4())
    assert priority.replies_generating() == 1
    extractor = SlowLLM(ANSWER)
    thread = threading.Thread(
        target=message_facts_extract,
        kwargs={"message_id": message.id, "extractor": "model", "model": extractor},
    )
    thread.start()
    assert not extractor.started.wait(0.5)  # it waits for the reply it was queued beside
    reply_generate(message_id=message.id, task_id="t", model=FakeLLM(replies=["Hi!"]))
    assert priority.replies_generating() == 0
    thread.join(30)
    assert extractor.runs == 1  # it ran once the reply was done, and was never stopped
