"""Authority: whether the visitor is the one who decides, in several languages; and need."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.leads.extraction.conftest import Facts


@pytest.mark.parametrize(
    "text",
    [
        "I'm the one who signs off on this.",
        "The final decision is mine.",
        "I make the call on software purchases.",
        "It's up to me.",
        "Ich entscheide das selbst.",
        "Je décide seul pour ce genre d'achat.",
        "En esto la última palabra la tengo yo.",
        "A decisão é minha.",
    ],
)
def test_visitor_who_decides_is_the_decision_maker(facts: Facts, text: str) -> None:
    assert facts(text).get("is_decision_maker") is True


@pytest.mark.parametrize(
    "text",
    [
        "Our CFO makes the final decision.",
        "I'll need approval from my boss.",
        "I'm on the evaluation team, the VP decides.",
        "Die Entscheidung trifft unser Geschäftsführer.",
        "La décision revient à notre directeur.",
        "Decide mi jefe.",
        "Quem decide é o meu diretor.",
    ],
)
def test_visitor_whose_boss_decides_is_not_the_decision_maker(facts: Facts, text: str) -> None:
    assert facts(text).get("is_decision_maker") is False


@pytest.mark.parametrize(
    "text",
    [
        "We decided to look at new tools.",
        "I'm just researching options for the team.",
        "Wir suchen ein neues Ticketsystem.",
        "Buscamos una herramienta de soporte.",
    ],
)
def test_nothing_said_about_who_decides_leaves_it_open(facts: Facts, text: str) -> None:
    assert "is_decision_maker" not in facts(text)


def test_need_is_the_visitors_own_words(facts: Facts) -> None:
    text = "Hi there. We're looking for a shared inbox for our support team."
    assert facts(text).get("need") == "We're looking for a shared inbox for our support team."
