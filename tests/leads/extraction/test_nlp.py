"""spaCy for people and organisations: the pattern pipeline, and rules that do not depend on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from leads.extraction import nlp
from leads.extraction.facts import Turn, Value
from leads.extraction.pipeline import conversation_extract


@pytest.fixture
def fresh_pipeline(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """`nlp.pipeline()` loaded anew under this test's environment, and again after it."""
    nlp.pipeline.cache_clear()
    yield monkeypatch
    nlp.pipeline.cache_clear()


@pytest.fixture
def blank(fresh_pipeline: pytest.MonkeyPatch) -> None:
    fresh_pipeline.setenv("SALESBOT_SPACY_MODEL", "blank")


def _labelled(text: str) -> set[tuple[str, str]]:
    return {(e.label, e.text) for e in nlp.entities(text)}


@pytest.mark.usefixtures("blank")
def test_blank_pipeline_is_not_a_trained_one() -> None:
    assert not nlp.trained()


@pytest.mark.usefixtures("blank")
@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("I spoke with Dr. Anna Berg yesterday.", ("PERSON", "Dr. Anna Berg")),
        ("Frau Köhler asked me to write.", ("PERSON", "Frau Köhler")),
        ("We work at Acme Widgets GmbH in Bremen.", ("ORG", "Acme Widgets GmbH")),
        ("Our supplier is Zeewind Software B.V. in Utrecht.", ("ORG", "Zeewind Software B.V.")),
        ("It's Godavari Textiles Pvt Ltd here.", ("ORG", "Godavari Textiles Pvt Ltd")),
    ],
)
def test_blank_pipeline_finds_people_by_honorific_and_companies_by_legal_form(
    text: str, entity: tuple[str, str]
) -> None:
    assert entity in _labelled(text)


@pytest.mark.usefixtures("blank")
def test_entity_offsets_point_into_the_text() -> None:
    text = "I'm Dr. Anna Berg from Acme Widgets GmbH"
    assert [text[e.start : e.end] for e in nlp.entities(text)] == [
        "Dr. Anna Berg",
        "Acme Widgets GmbH",
    ]


MESSAGES = [
    "I'm Dr. Anna Berg from Acme Widgets GmbH, we need 12 seats.",
    "Hello! Lena Fischer here, Head of Operations at Elbufer Logistik GmbH.",
    "I'm the COO of Godavari Textiles Pvt. Ltd. and the decision is mine.",
    "Thanks,\nMarcus Webb\nIT Director | Merrow Shipping Ltd",
    "my boss Rosa Delgado will decide, I'm Ken Ito from Lumen Labs",
]


def _values(text: str) -> dict[str, Value]:
    turns = [Turn(0, "visitor", text)]
    return conversation_extract(turns, region="US", extractor="rules").values


@pytest.mark.parametrize("text", MESSAGES)
def test_rules_give_the_same_facts_with_or_without_a_trained_model(
    fresh_pipeline: pytest.MonkeyPatch, text: str
) -> None:
    fresh_pipeline.delenv("SALESBOT_SPACY_MODEL", raising=False)
    default = _values(text)
    fresh_pipeline.setenv("SALESBOT_SPACY_MODEL", "blank")
    nlp.pipeline.cache_clear()
    assert _values(text) == default


def test_trained_model_recognises_a_name_without_an_honorific(
    fresh_pipeline: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("en_core_web_sm")
    fresh_pipeline.delenv("SALESBOT_SPACY_MODEL", raising=False)
    assert nlp.trained()
    assert ("PERSON", "Anna Berg") in _labelled("Yesterday Anna Berg called about the offer.")
