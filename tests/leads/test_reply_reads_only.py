"""The reply and the suggestion only read the lead: they write nothing but the reply itself
(and, for a question the knowledge does not answer, a note to staff: tests/leads/
test_reply_writing.py). What the lead knows reaches the reply prompt, which a Mistral-family
model gets folded."""

from __future__ import annotations

import pytest

from leads.models import Conversation, Evidence, Lead, LeadEvent, Message
from leads.services.conversations import conversation_resume_or_start
from leads.services.replies import reply_generate
from leads.services.suggestions import reply_suggest
from llm.backends.fake import FakeLLM
from tests.leads.factories import message_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(demo_site) -> Conversation:  # type: ignore[no-untyped-def]
    """A conversation no lead has been made for yet."""
    return conversation_resume_or_start(site=demo_site, visitor_token=None)


def _visitor_says(conversation: Conversation, text: str) -> Message:
    # Created directly, not through message_receive: nothing has read it or made its lead.
    return Message.objects.create(conversation=conversation, role=Message.Role.VISITOR, text=text)


def test_a_reply_writes_nothing_but_itself(conversation):
    message = _visitor_says(conversation, "I'm Ana Torres, ana@lumio.io")
    messages = Message.objects.count()
    reply = reply_generate(message_id=message.id, task_id="t", model=FakeLLM(replies=["Hi Ana!"]))
    assert reply is not None and reply.text.startswith("Hi Ana! ")
    assert Message.objects.count() == messages + 1
    assert Message.objects.get(in_reply_to=message) == reply
    assert not Lead.objects.exists()
    assert not Evidence.objects.exists()
    assert not LeadEvent.objects.exists()


def test_the_reply_prompt_lists_what_the_lead_knows_and_asks_for_the_next_field(lead: Lead):
    lead.name, lead.email = "Ana Torres", "ana@lumio.io"
    lead.save(update_fields=["name", "email"])
    message = message_add(lead.conversation, "We are a team of twelve.")
    model = FakeLLM(replies=["Good to know, thank you."], capability="compose")
    reply = reply_generate(message_id=message.id, task_id="t", model=model)
    system, note, visitor = model.prompts[0]
    assert (system.role, note.role, visitor.role) == ("system", "system", "user")
    # What changes from turn to turn is the note after the visitor's message, not the top.
    assert "ana@lumio.io" not in system.content
    assert 'email: "ana@lumio.io"' in note.content and 'name: "Ana Torres"' in note.content
    # The default order asks for the name, then the company: the name is known. The product
    # asks it after the model's sentences; the note tells the model to leave it.
    assert "Ask nothing: the next question is added after your reply." in note.content
    stored = Message.objects.get(id=reply.id)
    assert stored.asked_field == "company" and stored.turn_note == note.content
    assert stored.text.startswith("Good to know, thank you. ") and "company" in stored.text


def test_a_mistral_family_model_gets_the_system_prompt_and_note_folded_into_its_turn(lead: Lead):
    lead.email = "ana@lumio.io"
    lead.save(update_fields=["email"])
    message = message_add(lead.conversation, "We are a team of twelve.")
    model = FakeLLM(replies=["Noted."], template_family="mistral", capability="compose")
    reply_generate(message_id=message.id, task_id="t", model=model)
    [prompt] = model.prompts
    assert [m.role for m in prompt] == ["user"]
    rules, note, said = prompt[0].content.split("\n\n")
    assert "sales assistant" in rules and said == "We are a team of twelve."
    assert 'email: "ana@lumio.io"' in note


def test_a_suggestion_makes_no_lead(conversation):
    _visitor_says(conversation, "I'm Ana Torres, ana@lumio.io")
    suggested = reply_suggest(
        conversation_id=conversation.id, request_id="r", model=FakeLLM(replies=["Hello Ana."])
    )
    assert suggested == "Hello Ana."
    assert not Lead.objects.exists()
    assert not Evidence.objects.exists()
