"""The reply service around a scripted model: idempotency and failure handling.

The model writes the whole reply here (`capability="compose"`) on a Site that asks nothing,
so that the reply is the model's text as the guard passed it (tests/leads/test_reply_writing.py
has the product's own parts)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from leads.models import Message
from leads.selectors.conversations import visitor_messages_unanswered
from leads.services.conversations import conversation_resume_or_start
from leads.services.messages import message_receive
from leads.services.replies import reply_generate
from leads.services.reply_prompts import reply_prompt
from llm import GenerationFailed
from llm.backends.fake import FakeLLM
from llm.embeddings import MiniLM, minilm_path
from llm.ensemble import EnsembleLLM
from llm.router import RouterLLM
from llm.routing import RouterSettings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_site(demo_site):
    demo_site.qualification_fields = []
    demo_site.save(update_fields=["qualification_fields"])
    return demo_site


@pytest.fixture
def visitor_message(demo_site):
    conversation = conversation_resume_or_start(site=demo_site, visitor_token=None)
    return message_receive(conversation=conversation, text="Hello", client_id=uuid.uuid4())


def test_running_the_reply_twice_stores_one_reply(visitor_message):
    model = FakeLLM(capability="compose", replies=["First answer.", "Second answer."])
    first = reply_generate(message_id=visitor_message.id, task_id="a", model=model)
    second = reply_generate(message_id=visitor_message.id, task_id="b", model=model)
    assert first is not None and first.text == "First answer."
    assert second is None
    assert list(Message.objects.filter(role="assistant").values_list("text", flat=True)) == [
        "First answer."
    ]


@pytest.mark.usefixtures("discount_faq")
def test_a_routed_reply_records_its_tier_score_and_reasons(demo_site):
    conversation = conversation_resume_or_start(site=demo_site, visitor_token=None)
    message = message_receive(
        conversation=conversation, text="Can I get a discount?", client_id=uuid.uuid4()
    )
    tiers = {
        "simple": FakeLLM(capability="compose", name="small"),
        "medium": FakeLLM(capability="compose", name="local"),
        "complex": FakeLLM(
            capability="compose", name="big", replies=["Let me see what we can do."]
        ),
    }
    reply = reply_generate(
        message_id=message.id, task_id="t", model=RouterLLM(tiers, RouterSettings())
    )
    stored = Message.objects.get(id=reply.id)
    assert (stored.text, stored.model_name, stored.route_tier) == (
        "Let me see what we can do.",
        "big",
        "complex",
    )
    assert stored.route_score == 0.5 and stored.route_reasons == ["negotiation: discount"]


def test_an_ensembles_reply_records_its_agreement(visitor_message):
    models = Path(__file__).resolve().parents[2] / "models"
    members = [
        FakeLLM(capability="compose", name="odd", replies=["Our office dog is called Biscuit."]),
        FakeLLM(capability="compose", name="a", replies=["Hello! How can I help you today?"]),
        FakeLLM(capability="compose", name="b", replies=["Hi! How may I help you today?"]),
    ]
    ensemble = EnsembleLLM(members, MiniLM(minilm_path(models)))
    reply = reply_generate(message_id=visitor_message.id, task_id="t", model=ensemble)
    stored = Message.objects.get(id=reply.id)
    assert stored.model_name in {"a", "b"} and stored.text.endswith("help you today?")
    assert stored.agreement is not None and stored.agreement > 0.3


def _half_written(visitor_message, *, task_id="same-task", age=timedelta(0), attempts=1):
    return Message.objects.create(
        conversation=visitor_message.conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.GENERATING,
        in_reply_to=visitor_message,
        task_id=task_id,
        claimed_at=timezone.now() - age,
        attempts=attempts,
        text="half a rep",
    )


def test_a_redelivered_task_takes_over_a_reply_its_dead_worker_left(visitor_message):
    _half_written(visitor_message)
    other = reply_generate(
        message_id=visitor_message.id,
        task_id="other",
        model=FakeLLM(
            capability="compose",
        ),
    )
    assert other is None  # someone else's task is still on it
    reply = reply_generate(
        message_id=visitor_message.id,
        task_id="same-task",
        model=FakeLLM(capability="compose", replies=["Done."]),
    )
    assert (reply.text, reply.status, reply.attempts) == ("Done.", Message.Status.COMPLETE, 2)


def test_a_reply_abandoned_past_its_lease_is_taken_over(visitor_message, settings):
    settings.REPLY_LEASE_SECONDS = 60
    _half_written(visitor_message, age=timedelta(seconds=61))
    reply = reply_generate(
        message_id=visitor_message.id,
        task_id="new",
        model=FakeLLM(
            capability="compose",
        ),
    )
    assert reply.status == Message.Status.COMPLETE


def test_a_message_that_keeps_failing_is_given_up_after_its_attempts(visitor_message, settings):
    settings.REPLY_MAX_ATTEMPTS = 2
    _half_written(visitor_message, attempts=2)
    assert reply_generate(message_id=visitor_message.id, task_id="same-task") is None
    assert Message.objects.get(in_reply_to=visitor_message).status == Message.Status.FAILED
    assert not visitor_messages_unanswered(
        created_after=timezone.now() - timedelta(days=1), created_before=timezone.now()
    ).exists()


class BrokenModel(FakeLLM):
    def _generate(self, messages, options, schema=None):
        yield "Half"
        raise KeyError("choices")  # a library bug, not an LLMError


def test_any_failure_marks_the_reply_failed_so_that_it_can_be_retried(visitor_message):
    with pytest.raises(KeyError):
        reply_generate(
            message_id=visitor_message.id, task_id="a", model=BrokenModel(capability="compose")
        )
    reply = Message.objects.get(in_reply_to=visitor_message)
    assert reply.status == Message.Status.FAILED
    assert (
        visitor_messages_unanswered(
            created_after=timezone.now() - timedelta(days=1), created_before=timezone.now()
        ).get()
        == visitor_message
    )


def test_a_failed_generation_is_marked_and_can_be_retried(visitor_message):
    with pytest.raises(GenerationFailed):
        reply_generate(
            message_id=visitor_message.id,
            task_id="a",
            model=FakeLLM(capability="compose", replies=[RuntimeError("x")]),
        )
    assert Message.objects.get(in_reply_to=visitor_message).status == Message.Status.FAILED
    reply = reply_generate(
        message_id=visitor_message.id,
        task_id="b",
        model=FakeLLM(
            capability="compose",
        ),
    )
    assert reply.text == "You said: Hello"


def test_history_in_the_prompt_excludes_later_and_unfinished_messages(visitor_message):
    conversation = visitor_message.conversation
    later = message_receive(conversation=conversation, text="Later", client_id=uuid.uuid4())
    model = FakeLLM(
        capability="compose",
    )
    reply_generate(message_id=visitor_message.id, task_id="a", model=model)
    reply_generate(message_id=later.id, task_id="b", model=model)
    first, second = model.prompts
    assert [m.role for m in first] == ["system", "system", "user"]  # the rules, a note, "Hello"
    assert first[-1].content == "Hello"
    assert [m.content for m in second[len(first) :]] == [
        "You said: Hello",
        second[-2].content,
        "Later",
    ]
    # The first turn's whole prompt, and the reply written from it, start the second's: the
    # engine that evaluated them has only the new note and message left to read.
    assert second[: len(first)] == first


@pytest.mark.parametrize(("max_attempts", "retryable"), [(3, True), (1, False)])
def test_a_failed_reply_tells_the_widget_which_message_to_resend_and_whether_it_may(
    visitor_message, settings, monkeypatch, max_attempts, retryable
):
    settings.REPLY_MAX_ATTEMPTS = max_attempts
    sent = []
    monkeypatch.setattr(
        "leads.services.replies.frame_send", lambda **kwargs: sent.append(kwargs["frame"])
    )
    with pytest.raises(KeyError):
        reply_generate(
            message_id=visitor_message.id, task_id="a", model=BrokenModel(capability="compose")
        )
    failed = next(f for f in sent if f["type"] == "error")
    reply = Message.objects.get(in_reply_to=visitor_message)
    assert failed == {
        "type": "error",
        "code": "reply_failed",
        "detail": failed["detail"],
        "message": reply.id,
        "in_reply_to": visitor_message.id,
        "retryable": retryable,
    }
    assert sent[-1] == {"type": "typing", "on": False}


LONG = "We move freight. We have ten depots. Prices depend on weight. We ship daily. Ask away!"


def test_a_reply_stops_after_the_sites_number_of_sentences(visitor_message):
    site = visitor_message.conversation.site
    site.reply_sentences = 2
    site.save(update_fields=["reply_sentences"])
    model = FakeLLM(capability="compose", replies=[LONG])
    reply = reply_generate(message_id=visitor_message.id, task_id="a", model=model)
    assert reply is not None and reply.text == "We move freight. We have ten depots."
    # The budget leaves room for the sentences, so they, not the budget, end the reply.
    assert model.options_seen[0].max_sentences == 2
    assert model.options_seen[0].max_tokens >= 2 * 40


def test_a_reply_cut_by_its_budget_keeps_only_its_finished_sentences(visitor_message):
    model = FakeLLM(
        capability="compose", replies=["We move freight. We have ten depots across the whole of"]
    )
    model.defaults = model.options(max_tokens=10)  # ten words: the budget runs out
    reply = reply_generate(message_id=visitor_message.id, task_id="a", model=model)
    assert reply is not None and reply.text == "We move freight."


def test_the_prompt_asks_for_the_sites_reply_length(visitor_message):
    model = FakeLLM(
        capability="compose",
    )
    reply_generate(message_id=visitor_message.id, task_id="a", model=model)
    assert "two to four sentences" in model.prompts[0][0].content


def _turn(conversation, role, text, **fields):
    return Message.objects.create(
        conversation=conversation, role=role, text=text, status=Message.Status.COMPLETE, **fields
    )


def test_a_note_whose_visitor_message_left_the_window_no_longer_counts_as_told(demo_site):
    conversation = conversation_resume_or_start(site=demo_site, visitor_token=None)
    first = _turn(conversation, "visitor", "I'm Ana")
    reply = _turn(
        conversation, "assistant", "Hi Ana!", in_reply_to=first, turn_note='Note. New: name: "Ana".'
    )
    now = _turn(conversation, "visitor", "Price?")
    facts = {"name": "Ana"}
    told = reply_prompt(site=demo_site, turns=[first, reply, now], facts=facts)
    assert 'name: "Ana"' not in told[2]  # its note is in the prompt: nothing new
    # History cut after the visitor message: the reply stays, its note has nowhere to go.
    cut = reply_prompt(site=demo_site, turns=[reply, now], facts=facts)
    assert 'name: "Ana"' in cut[2]
    assert all(m.content != 'Note. New: name: "Ana".' for m in cut[0])


def test_a_suggestion_after_a_reps_message_ends_with_the_note(demo_site):
    conversation = conversation_resume_or_start(site=demo_site, visitor_token=None)
    asked = _turn(conversation, "visitor", "Price?")
    rep = _turn(conversation, "agent", "Let me check.")
    chat, _, note = reply_prompt(site=demo_site, turns=[asked, rep], facts={})
    assert [m.role for m in chat] == ["system", "user", "assistant", "system"]
    assert chat[-1].content == note
