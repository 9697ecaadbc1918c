"""The reply as the product composes it, through the real reply path against the demo Site's
knowledge: what the model may write by its capability, what the guard keeps back (never shown,
then withdrawn), what is stored for staff, and the colleague hand-off."""

from __future__ import annotations

import uuid

import pytest

from leads.intents import Intent
from leads.models import LeadEvent, Message
from leads.services.conversations import conversation_resume_or_start
from leads.services.knowledge import passages_embed
from leads.services.messages import message_receive
from leads.services.replies import reply_generate
from leads.services.setup import demo_knowledge_ensure
from llm.backends.fake import FakeLLM
from tests.leads.frames import group_listen, reply_frames

pytestmark = [pytest.mark.usefixtures("own_channel_layer"), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(demo_site, embedder):
    demo_knowledge_ensure(demo_site)
    passages_embed(site_id=demo_site.id, embedder=embedder)
    return demo_site


def _reply(site, model: FakeLLM, *texts: str) -> tuple[Message, str, Message]:
    """The stored reply to the last of `texts`, what the widget was streamed of it, and the
    visitor message it answers."""
    conversation = conversation_resume_or_start(site=site, visitor_token=None)
    for text in texts[:-1]:
        message_receive(conversation=conversation, text=text, client_id=uuid.uuid4())
    layer, channel = group_listen(conversation.id)
    message = message_receive(conversation=conversation, text=texts[-1], client_id=uuid.uuid4())
    reply = reply_generate(message_id=message.id, task_id="t", model=model)
    assert reply is not None
    frames = reply_frames(layer, channel)
    streamed = "".join(f["text"] for f in frames if f["type"] == "delta")
    (final,) = [f for f in frames if f["type"] == "reply"]
    stored = Message.objects.get(id=reply.id)
    # Nothing the widget was shown is withdrawn: the final text is what streamed.
    assert streamed == final["text"] == stored.text
    return stored, streamed, message


def test_a_small_model_is_not_called_for_a_price_question_the_knowledge_answers(site):
    model = FakeLLM(replies=["Initech gets 10 days for $35 per day."])
    stored, _, _ = _reply(site, model, "How much is the Team plan?")
    assert model.prompts == []  # the product answered; the model wrote nothing
    assert "EUR 29 per seat" in stored.text and stored.text.endswith("?")
    assert (stored.intent, stored.language, stored.asked_field) == ("pricing", "en", "name")
    assert stored.sources and "EUR 29" in stored.sources[0]["text"]
    assert stored.model_name == "" and stored.completion_tokens is None


def test_a_small_model_acknowledges_a_detail_then_the_product_asks(site):
    model = FakeLLM(replies=["Nice to meet you, Ana. What is your budget?"])
    stored, _, _ = _reply(site, model, "I'm Ana Torres from Initech.")
    assert stored.intent == Intent.DETAIL and stored.sources == []  # no passage was used
    assert stored.text.startswith("Nice to meet you, Ana. ") and stored.text.endswith("?")
    assert "budget" not in stored.text.split(". ", 1)[0]
    note = model.prompts[0][-2].content  # the turn's note, before the visitor's message
    assert "one short sentence" in note and "Ask nothing" in note


@pytest.mark.parametrize(
    "ack",
    [
        "We offer a 30-day refund, Ana.",  # a claim nobody made
        "What is your company?",  # the product asks
        "Encantado de conocerte, Ana, y bienvenida a nuestra página.",  # another language
        "I'm Ana Torres from Initech and I lead sales.",  # the visitor's introduction
    ],
)
def test_an_acknowledgement_that_fails_the_guard_is_never_shown(site, ack):
    stored, streamed, _ = _reply(site, FakeLLM(replies=[ack]), "I'm Ana Torres from Initech.")
    assert ack not in streamed and stored.text.startswith("Thank you")
    assert [w["sentence"] for w in stored.withheld] == [ack]


def test_a_capable_model_answers_from_the_passage_and_its_invented_price_is_withheld(site):
    model = FakeLLM(
        replies=[
            "The Team plan is EUR 29 per seat per month, billed yearly. "
            "For you it is only $19 this week. It includes forecasting."
        ],
        capability="compose",
    )
    stored, streamed, _ = _reply(site, model, "How much is the Team plan?")
    note = model.prompts[0][-2].content
    assert "Reply in English." in note and "EUR 29 per seat" in note
    assert streamed.startswith("The Team plan is EUR 29 per seat per month, billed yearly. ")
    assert "$19" not in streamed and "It includes forecasting." in streamed
    assert streamed.endswith("?")  # the product's next question closes it
    assert stored.withheld == [
        {"sentence": "For you it is only $19 this week.", "failures": ["amount"]}
    ]
    assert stored.model_name == "fake" and stored.completion_tokens


def test_a_capable_model_whose_every_sentence_fails_gives_way_to_the_plan(site):
    model = FakeLLM(replies=["No, no data is stored in the EU."], capability="compose")
    stored, _, _ = _reply(site, model, "Is my data stored in the EU?")
    assert stored.intent == Intent.POLICY
    assert "No, no data" not in stored.text and "EU" in stored.text
    assert stored.withheld[0]["failures"] == ["policy"]


def test_a_question_nothing_covers_goes_to_a_colleague_and_the_team_gets_a_note(site):
    model = FakeLLM(replies=["Yes, we have an app for iOS and Android."])
    stored, _, message = _reply(site, model, "Do you have a public API?")
    assert stored.text.startswith("I'd rather not guess") or "colleague" in stored.text
    assert stored.asked_field == "email" and model.prompts == []
    (note,) = LeadEvent.objects.filter(kind=LeadEvent.Kind.UNANSWERED)
    assert "Do you have a public API?" in note.text and note.actor is None
    # Written again (a redelivered task), the note is not repeated.
    Message.objects.filter(id=stored.id).update(status=Message.Status.FAILED)
    reply_generate(message_id=message.id, task_id="again", model=model)
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.UNANSWERED).count() == 1


@pytest.mark.parametrize(
    ("text", "intent"),
    [("Can I talk to a real person?", Intent.PERSON), ("You are useless, idiot.", Intent.ABUSE)],
)
def test_no_model_writes_to_a_request_for_a_person_or_to_abuse(site, text, intent):
    model = FakeLLM(replies=["Sure, call me at 555-0199."], capability="compose")
    stored, _, _ = _reply(site, model, text)
    assert model.prompts == [] and stored.intent == intent and "555" not in stored.text
    if intent is Intent.PERSON:  # the team is told
        (note,) = LeadEvent.objects.filter(kind=LeadEvent.Kind.NOTE)
        assert "talk to a person" in note.text and text in note.text


def test_a_spanish_visitor_is_answered_in_spanish(site):
    stored, _, _ = _reply(site, FakeLLM(), "Hola", "¿Cuánto cuesta el plan Team?")
    assert stored.language == "es" and stored.text.endswith("?")
    assert "El plan Team cuesta 29 EUR" in stored.text  # the Spanish guide's words


def test_a_conversation_erased_while_its_reply_is_composed_keeps_no_note_and_no_reply(
    site, monkeypatch
):
    from leads.services import replies
    from leads.services.leads import lead_ensure, lead_erase

    composed = replies.composition_for

    def erased_meanwhile(*, message, **kwargs):
        composition = composed(message=message, **kwargs)
        lead_erase(lead=lead_ensure(conversation=message.conversation), by=None)
        return composition

    monkeypatch.setattr(replies, "composition_for", erased_meanwhile)
    conversation = conversation_resume_or_start(site=site, visitor_token=None)
    message = message_receive(
        conversation=conversation, text="Do you have a public API?", client_id=uuid.uuid4()
    )
    assert reply_generate(message_id=message.id, task_id="t", model=FakeLLM()) is None
    reply = Message.objects.get(in_reply_to=message)
    assert (reply.text, reply.turn_note, reply.status) == ("", "", Message.Status.FAILED)
    assert not LeadEvent.objects.filter(kind=LeadEvent.Kind.UNANSWERED).exists()


def test_a_turn_too_long_for_the_models_window_is_answered_by_the_plan(site):
    """Two thousand accented letters are about as many tokens: past a small window with the
    prompt, whichever try; the product's own answer is the reply, not a failure."""
    model = FakeLLM(replies=["Unread."], capability="compose", context_window=1024)
    stored, _, _ = _reply(site, model, "How much is the Team plan? " + "é" * 1900)
    assert model.prompts == []  # it never reached the model
    assert stored.status == Message.Status.COMPLETE and "EUR 29 per seat" in stored.text
    assert stored.withheld == [] and stored.text.endswith("?")
