"""A reply's product-decided parts (leads/composition.py): for each intent, what is stated and
asked, in the visitor's language; and every plan passes the reply guard's checks on its own —
two to four whole sentences, grounded, in the visitor's language."""

from __future__ import annotations

import pytest

from leads.claims import reply_checked, sentences_of
from leads.composition import reply_plan
from leads.intents import Intent
from leads.language import LANGUAGES, language_of

TEAM = (7, "The Team plan costs EUR 29 per seat per month, billed yearly. It adds forecasting.")
SITE = "Acme Analytics"


def _plan(intent: Intent, language: str = "en", **kw: object):
    args: dict[str, object] = {
        "intent": intent,
        "language": language,
        "site": SITE,
        "passages": [],
        "next_topic": "name",
    } | kw
    return reply_plan(**args)  # type: ignore[arg-type]


def test_a_question_the_knowledge_answers_is_answered_by_quoting_it_then_the_next_question():
    plan = _plan(Intent.PRICING, passages=[TEAM, (8, "Other.")])
    assert plan.text() == (
        "Here is what I can tell you: The Team plan costs EUR 29 per seat per month, billed "
        "yearly. It adds forecasting. May I have your name?"
    )
    assert plan.passage_ids == [7] and plan.asked_topic == "name" and not plan.staff_note


def test_a_question_nothing_covers_gets_a_colleague_and_a_note_for_staff():
    plan = _plan(Intent.POLICY, language="de")
    assert plan.said == ["Da möchte ich nicht raten: Ein Kollege wird es Ihnen bestätigen."]
    assert plan.asked_topic == "email"  # someone must be able to write back
    assert "does not answer" in plan.staff_note
    known = _plan(Intent.QUESTION, email_known=True)
    assert known.asked_topic == "name"


def test_a_request_for_a_person_tells_the_team_and_asks_how_to_reach_them():
    plan = _plan(Intent.PERSON, language="fr")
    assert plan.text().startswith("Bien sûr : j'ai prévenu l'équipe")
    assert plan.asked_topic == "email" and "person" in plan.staff_note


def test_a_detail_is_acknowledged_by_the_model_or_by_the_fallback():
    plan = _plan(Intent.DETAIL, language="es", next_topic="company")
    assert plan.model_ack
    assert plan.text() == "Gracias. ¿En qué empresa trabaja?"
    assert plan.text(ack="Encantado, Ana.") == "Encantado, Ana. ¿En qué empresa trabaja?"
    assert _plan(Intent.PRICING, passages=[TEAM]).text(ack="Ignored.").startswith("Here is")


def test_the_first_hello_is_greeted_and_a_later_one_thanked():
    assert _plan(Intent.SMALL_TALK, first=True).said == [f"Hello, and welcome to {SITE}!"]
    assert _plan(Intent.SMALL_TALK).said == ["Thank you."]


def test_a_qualified_lead_is_told_the_team_follows_up_and_asked_nothing():
    plan = _plan(Intent.DETAIL, qualified=True)
    assert plan.asked == "" and plan.text().endswith("follow up with you shortly.")


def test_abuse_gets_the_calm_lines_and_no_question():
    assert _plan(Intent.ABUSE).text() == (
        f"Let's keep this respectful. I'm here to help with questions about {SITE}."
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("intent", list(Intent))
def test_every_plan_passes_the_reply_guard_by_itself(intent, language):
    plan = _plan(intent, language=language, passages=[TEAM] if intent is Intent.PRICING else [])
    text = plan.text()
    assert 2 <= len(sentences_of(text)) <= 4, text
    checked = reply_checked(text, visitor="", passages=[TEAM[1]])
    assert all(not c.failures for c in checked), checked
    if language != "en" and intent is not Intent.PRICING:  # the quote is the Site's English
        assert language_of(text) == language, text
