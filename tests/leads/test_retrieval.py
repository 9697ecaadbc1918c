"""Retrieving a Site's knowledge for a visitor's message (leads/services/retrieval.py): the
right passage for questions in four languages, by meaning and by words, with the real
all-MiniLM-L6-v2 (numpy); nothing for a message no passage is about."""

from __future__ import annotations

import pytest

from leads.models import Passage
from leads.services.knowledge import (
    document_ingest,
    faq_entry_save,
    passages_embed,
)
from leads.services.retrieval import passages_retrieve, words_of
from leads.services.setup import demo_knowledge_ensure

pytestmark = pytest.mark.django_db


GUIDE = b"""# Lumio

Lumio turns spreadsheets into live dashboards that update as the numbers change.

## Pricing

The Team plan costs EUR 12 per seat per month, billed yearly. The Enterprise plan is priced
on request and includes single sign-on.

## Security

All customer data is stored in Frankfurt, Germany, inside the European Union, and encrypted
at rest.

## Integrations

Lumio connects to Google Sheets, Excel files on OneDrive, and PostgreSQL databases.
"""

FAQ = [
    ("Is there a free trial?", "Yes, 14 days, no credit card needed."),
    ("¿Tienen soporte en español?", "Sí, nuestro equipo responde en español de lunes a viernes."),
    ("Kann ich monatlich kündigen?", "Ja, der Team-Tarif ist monatlich kündbar."),
    ("Proposez-vous une formation ?", "Oui, une formation en ligne est incluse dans chaque offre."),
]


@pytest.fixture
def knowledge(demo_site, embedder):
    document_ingest(site=demo_site, name="guide.md", data=GUIDE)
    for question, answer in FAQ:
        faq_entry_save(site=demo_site, question=question, answer=answer)
    assert passages_embed(site_id=demo_site.id, embedder=embedder) == Passage.objects.count()
    return demo_site


@pytest.mark.parametrize(
    ("question", "found"),
    [
        ("How much does it cost for 10 users?", "EUR 12 per seat"),
        ("Is my data stored in the EU?", "stored in Frankfurt"),
        ("Where do you keep our data?", "stored in Frankfurt"),
        ("Can I connect it to Excel?", "Google Sheets, Excel"),
        ("Which databases can it connect to?", "PostgreSQL databases"),
        ("Does the Enterprise plan come with single sign-on?", "single sign-on"),
        ("Can I try it before paying?", "14 days"),
        ("Hola, ¿tienen soporte en español?", "responde en español"),
        ("Kann ich den Vertrag monatlich kündigen?", "monatlich kündbar"),
        ("Est-ce que vous proposez une formation ?", "formation en ligne"),
    ],
)
def test_the_passage_that_answers_comes_first(knowledge, embedder, question, found):
    best, *_ = passages_retrieve(site_id=knowledge.id, query=question, embedder=embedder)
    assert found in best.text, [best.heading, best.text]


def test_a_message_no_passage_is_about_retrieves_nothing(knowledge, embedder):
    assert passages_retrieve(site_id=knowledge.id, query="Hi!", embedder=embedder) == []
    assert (
        passages_retrieve(
            site_id=knowledge.id, query="What's the weather on Mars?", embedder=embedder
        )
        == []
    )


def test_without_vectors_the_words_still_find_the_passage(demo_site, embedder):
    document_ingest(site=demo_site, name="guide.md", data=GUIDE)  # not embedded
    best, *_ = passages_retrieve(site_id=demo_site.id, query="single sign-on?", embedder=embedder)
    assert "single sign-on" in best.text and best.similarity is None


def test_embedding_is_done_once_and_again_for_what_changed(demo_site, embedder):
    entry = faq_entry_save(site=demo_site, question="Is there a free trial?", answer="Yes.")
    assert passages_embed(site_id=demo_site.id, embedder=embedder) == 1
    assert passages_embed(site_id=demo_site.id, embedder=embedder) == 0
    faq_entry_save(site=demo_site, entry=entry, question=entry.question, answer="Yes, 14 days.")
    assert Passage.objects.filter(embedding__isnull=True).count() == 1
    assert passages_embed(site_id=demo_site.id, embedder=embedder) == 1


def test_words_are_compared_without_case_or_accents():
    assert words_of("¿Tienen SOPORTE en Español?") == ["soporte", "espanol"]
    assert words_of("What's the weather on Mars?") == ["weather", "mars"]


@pytest.fixture
def demo_knowledge(demo_site, embedder):
    demo_knowledge_ensure(demo_site)
    passages_embed(site_id=demo_site.id, embedder=embedder)
    return demo_site


@pytest.mark.parametrize(
    ("question", "found"),
    [
        ("How much is the Team plan?", "EUR 29 per seat"),
        ("What does it cost for a team of 8?", "per seat per month"),
        ("Do you have SSO?", "single sign-on"),
        ("Can I cancel my subscription?", "cancelled at any time"),
        ("Does it work with HubSpot?", "HubSpot"),
        ("Is there an uptime guarantee?", "99.9% uptime"),
        ("¿Dónde se guardan mis datos?", "Fráncfort"),
        ("¿Hay una prueba gratuita?", "prueba gratuita de 14 días"),
        ("Bieten Sie eine Schulung an?", "Online-Einführung"),
        ("Wo liegen die Daten?", "Frankfurt"),
        ("Signez-vous un DPA ?", "DPA"),
    ],
)
def test_the_demo_sites_knowledge_answers_a_visitors_first_questions(
    demo_knowledge, embedder, question, found
):
    """What `make run` shows: the demo's passages found for questions in four languages. The
    embedder reads English; the demo's FAQ answers the other languages' first questions in
    theirs (docs/configuration.md, "Its knowledge")."""
    retrieved = passages_retrieve(site_id=demo_knowledge.id, query=question, embedder=embedder)
    assert any(found in r.text for r in retrieved[:2]), [r.text[:60] for r in retrieved]


def test_a_small_sites_only_passages_are_found_by_their_words(other_site):
    """BM25 gives a word in half the passages or more an IDF of zero or below: a Site of one
    or two passages would find nothing by words. Sharing a word finds the passage."""
    faq_entry_save(
        site=other_site,
        question="Is there a discount?",
        answer="A discount on yearly plans is agreed with the sales team.",
    )
    (found,) = passages_retrieve(site_id=other_site.id, query="Can I get a discount?")
    assert found.words <= 0 < found.coverage and "yearly plans" in found.text
    faq_entry_save(site=other_site, question="Where is data kept?", answer="In the EU.")
    found = passages_retrieve(site_id=other_site.id, query="Can I get a discount?")
    assert [p.heading for p in found] == ["Is there a discount?"]
