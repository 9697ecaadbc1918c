"""Composing the reply to a stored visitor message (leads/services/compose.py) against the demo
Site's knowledge, with the real embedder: the language, the intent, the passage used, the next
question."""

from __future__ import annotations

import uuid

import pytest

from leads.intents import Intent
from leads.services.compose import composition_for
from leads.services.conversations import conversation_resume_or_start
from leads.services.knowledge import passages_embed
from leads.services.messages import message_receive
from leads.services.setup import demo_knowledge_ensure

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(demo_site, embedder):
    demo_knowledge_ensure(demo_site)
    passages_embed(site_id=demo_site.id, embedder=embedder)
    return demo_site


def _compose(site, embedder, *texts: str):
    conversation = conversation_resume_or_start(site=site, visitor_token=None)
    for text in texts:
        message = message_receive(conversation=conversation, text=text, client_id=uuid.uuid4())
    return composition_for(message=message, embedder=embedder)


def test_a_price_question_is_answered_from_the_passage_then_the_name_is_asked(site, embedder):
    composed = _compose(site, embedder, "How much is the Team plan?")
    plan = composed.plan
    assert (plan.intent, composed.language, plan.asked_topic) == (Intent.PRICING, "en", "name")
    assert "EUR 29 per seat" in plan.text() and plan.passage_ids


def test_a_question_the_knowledge_does_not_cover_goes_to_a_colleague(site, embedder):
    plan = _compose(site, embedder, "Hola", "¿Tienen una app para el móvil?").plan
    assert plan.intent is Intent.QUESTION and plan.language == "es"
    assert plan.text().startswith("Prefiero no adivinar") and plan.staff_note
    assert plan.asked_topic == "email"


def test_a_short_answer_keeps_the_conversations_language(site, embedder):
    composed = _compose(site, embedder, "Wir suchen ein Dashboard für den Vertrieb.", "Jonas")
    assert composed.language == "de"
    told = _compose(site, embedder, "Ich heiße Jonas Weber und arbeite bei Brandt Logistik.")
    assert told.plan.intent is Intent.DETAIL and told.plan.model_ack


@pytest.mark.parametrize(
    ("question", "answered"),
    [
        ("How much is the Team plan?", True),
        ("Is my data stored in the EU?", True),
        ("¿Hay una prueba gratuita?", True),
        ("Bieten Sie eine Schulung an?", True),
        # The French guide's passage holds half its words ("DPA"; "signe", not "signez").
        ("Signez-vous un DPA ?", True),
        ("Does it connect to HubSpot?", True),
        ("Do you have a public API?", False),
        ("Gibt es eine App für das Handy?", False),
        ("Können Sie SAP anbinden?", False),
        ("Peut-on l'installer sur nos propres serveurs ?", False),
    ],
)
def test_a_passage_answers_only_when_it_is_about_the_question(site, embedder, question, answered):
    """Near is not enough: the demo's Spanish support hours are "near" a Spanish question
    about an app, and must not be quoted as its answer."""
    plan = _compose(site, embedder, question).plan
    assert bool(plan.passage_ids) is answered, plan.text()
