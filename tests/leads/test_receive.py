"""Storing a visitor message reads it with the rules at once (`message_receive`), queues the
reply and, when a model pass is configured, the extraction; the extraction worker then runs
only the model pass, and does not ask the model for what the rules already read."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from leads import dispatch
from leads.models import Conversation, Evidence, Lead, Message
from leads.services import extraction
from leads.services.conversations import conversation_resume_or_start
from leads.services.extraction import message_facts_extract
from leads.services.messages import message_receive
from llm.backends.fake import FakeLLM
from salesbot.embedded_redis import EmbeddedRedis

INTRODUCTION = "I'm Ana Torres, ana@lumio.io"


@pytest.fixture
def conversation(demo_site) -> Conversation:  # type: ignore[no-untyped-def]
    return conversation_resume_or_start(site=demo_site, visitor_token=None)


def _receive(conversation: Conversation, text: str) -> Message:
    return message_receive(conversation=conversation, text=text, client_id=uuid.uuid4())


def _queued(server: EmbeddedRedis) -> list[str]:
    """The names of the tasks waiting in the default and the extraction queue."""
    client = redis.Redis.from_url(server.url)
    queues = (django_settings.CELERY_TASK_DEFAULT_QUEUE, django_settings.EXTRACTION_QUEUE)
    raw = [item for queue in queues for item in client.lrange(queue, 0, -1)]
    return sorted(json.loads(item)["headers"]["task"] for item in raw)


def _schema_asked(model: FakeLLM) -> dict[str, object]:
    """The JSON Schema the model was shown (a backend without `supports_schema` reads it in
    the last user message)."""
    [prompt] = model.prompts
    instruction = prompt[-1]
    assert instruction.role == "user"
    _, _, schema = instruction.content.partition("JSON Schema:\n")
    return json.loads(schema)


# ---- reading at receive ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_stored_message_has_its_facts_read_by_the_rules_at_once(conversation):
    message = _receive(conversation, INTRODUCTION)
    lead = Lead.objects.get(conversation=conversation)
    assert (lead.name, lead.email) == ("Ana Torres", "ana@lumio.io")
    read = Evidence.objects.filter(lead=lead, message=message, extractor="rules")
    assert sorted(read.values_list("field", flat=True)) == ["email", "name"]


@pytest.mark.django_db
def test_a_message_without_facts_still_makes_the_conversation_a_lead(conversation):
    _receive(conversation, "Hello there")
    lead = Lead.objects.get(conversation=conversation)
    assert (lead.name, lead.email) == ("", "")
    assert not Evidence.objects.exists()


@pytest.mark.django_db
def test_a_conversation_has_one_lead_however_many_messages(conversation):
    for text in ("Hello there", INTRODUCTION, "What does it cost?"):
        _receive(conversation, text)
    assert Lead.objects.filter(conversation=conversation).count() == 1


@pytest.mark.django_db
def test_a_failing_rules_pass_costs_the_facts_never_the_message(
    conversation, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("rules exploded")

    monkeypatch.setattr(extraction, "rules_read", broken)
    with caplog.at_level(logging.ERROR, logger="leads.services.extraction"):
        message = _receive(conversation, INTRODUCTION)
    assert Message.objects.filter(id=message.id, text=INTRODUCTION).exists()
    assert Lead.objects.filter(conversation=conversation).exists()
    assert not Evidence.objects.exists()
    [record] = [r for r in caplog.records if r.name == "leads.services.extraction"]
    # The rules read before the message is stored: the log names its conversation.
    assert f"conversation {conversation.id}" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


@pytest.mark.django_db
def test_a_failure_storing_what_the_rules_read_is_rolled_back_alone(
    conversation, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    def broken(**kwargs: object) -> None:
        raise RuntimeError("the database refused the evidence")

    monkeypatch.setattr(extraction, "facts_settle", broken)
    with caplog.at_level(logging.ERROR, logger="leads.services.extraction"):
        message = _receive(conversation, INTRODUCTION)
    # The message and its lead are stored; the half-stored evidence went with the savepoint.
    assert Message.objects.filter(id=message.id, text=INTRODUCTION).exists()
    lead = Lead.objects.get(conversation=conversation)
    assert (lead.name, lead.email) == ("", "")
    assert not Evidence.objects.exists()
    [record] = [r for r in caplog.records if r.name == "leads.services.extraction"]
    assert f"message {message.id}" in record.getMessage()


@pytest.mark.django_db
def test_extraction_by_model_alone_reads_nothing_at_receive(conversation, settings):
    settings.EXTRACTION_EXTRACTOR = "model"
    _receive(conversation, INTRODUCTION)
    lead = Lead.objects.get(conversation=conversation)
    assert (lead.name, lead.email) == ("", "")
    assert not Evidence.objects.filter(extractor="rules").exists()


# ---- queueing after commit ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("extractor", "tasks"),
    [
        ("hybrid", [dispatch.LEAD_EXTRACT, dispatch.REPLY_GENERATE]),
        ("rules", [dispatch.REPLY_GENERATE]),  # the rules read it already: no model pass
        ("model", [dispatch.LEAD_EXTRACT, dispatch.REPLY_GENERATE]),
    ],
)
def test_a_stored_message_queues_its_reply_and_the_configured_model_pass(
    conversation, settings, broker: EmbeddedRedis, extractor: str, tasks: list[str]
):
    settings.EXTRACTION_EXTRACTOR = extractor
    _receive(conversation, INTRODUCTION)
    assert _queued(broker) == sorted(tasks)


# ---- the extraction worker's pass -----------------------------------------------------------


@pytest.mark.django_db
def test_the_worker_runs_the_model_pass_and_leaves_the_rules_evidence_alone(
    conversation, settings, monkeypatch: pytest.MonkeyPatch
):
    settings.EXTRACTION_EXTRACTOR = "hybrid"
    message = _receive(conversation, INTRODUCTION)
    rules = sorted(Evidence.objects.filter(extractor="rules").values_list("id", "field", "value"))
    assert rules  # the rules read the message as it was stored
    rules_runs: list[object] = []
    monkeypatch.setattr(extraction, "rules_read", lambda *a, **k: rules_runs.append(a) or [])
    model = FakeLLM(replies=["{}"])
    message_facts_extract(message_id=message.id, model=model)
    assert len(model.prompts) == 1
    assert rules_runs == []
    after = sorted(Evidence.objects.filter(extractor="rules").values_list("id", "field", "value"))
    assert after == rules


@pytest.mark.django_db
def test_the_model_is_not_asked_for_what_the_rules_read(conversation, settings):
    settings.EXTRACTION_EXTRACTOR = "hybrid"
    message = _receive(conversation, INTRODUCTION)
    model = FakeLLM(replies=["{}"])
    message_facts_extract(message_id=message.id, model=model)
    asked = _schema_asked(model)["properties"]
    assert isinstance(asked, dict)
    assert "name" not in asked and "email" not in asked
    assert {"company", "seats", "budget_amount"} <= set(asked)


# ---- no reading inside a write transaction ------------------------------------------------
# On SQLite a write transaction holds the database's one write lock: a model (seconds) or the
# rules (spaCy's first load) read inside it would stall every other writer.


class _TransactionSpy(FakeLLM):
    """A scripted model that notes whether it was called inside a transaction."""

    inside: list[bool]

    def _generate(self, messages: Any, options: Any, schema: Any = None) -> Any:
        self.inside.append(connection.in_atomic_block)
        yield from super()._generate(messages, options, schema)


@pytest.mark.django_db(transaction=True)
def test_the_model_reads_a_message_outside_any_transaction(conversation):
    message = _receive(conversation, "We are looking for a helpdesk.")
    model = _TransactionSpy(replies=["{}"])
    model.inside = []
    message_facts_extract(message_id=message.id, model=model)
    assert model.inside == [False]


@pytest.mark.django_db(transaction=True)
def test_the_rules_read_an_arriving_message_outside_any_transaction(
    conversation, monkeypatch: pytest.MonkeyPatch
):
    inside = []
    rules_read = extraction.rules_read

    def spy(*args: Any, **kwargs: Any) -> Any:
        inside.append(connection.in_atomic_block)
        return rules_read(*args, **kwargs)

    monkeypatch.setattr(extraction, "rules_read", spy)
    _receive(conversation, INTRODUCTION)
    assert inside == [False]
    assert Lead.objects.get(conversation=conversation).email == "ana@lumio.io"
