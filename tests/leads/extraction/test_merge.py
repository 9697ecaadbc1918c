"""Settling a field from its candidates: corrections, conflicts, confidence, corroboration."""

from __future__ import annotations

from typing import Literal

from leads.extraction.facts import Candidate, Value
from leads.extraction.merge import resolve


def _said(
    value: Value | None,
    *,
    turn: int,
    position: int = 0,
    field: str = "email",
    confidence: float = 0.9,
    correction: bool = False,
    extractor: Literal["rules", "model", "staff"] = "rules",
) -> Candidate:
    return Candidate(
        field=field,
        value=value,
        turn=turn,
        quote=str(value),
        extractor=extractor,
        confidence=confidence,
        position=position,
        correction=correction,
    )


def test_correction_in_a_later_message_supersedes_the_earlier_value() -> None:
    result = resolve(
        [
            _said("jo@lumen.io", turn=1),
            _said("jo.park@lumen.io", turn=3, correction=True, confidence=0.5),
        ]
    )
    assert (result.values["email"], result.superseded) == ("jo.park@lumen.io", {0: 1})


def test_correction_within_one_message_supersedes_what_came_before_it() -> None:
    result = resolve(
        [
            _said(30, field="seats", turn=1, position=0),
            _said(35, field="seats", turn=1, position=25, correction=True, confidence=0.8),
        ]
    )
    assert (result.values["seats"], result.superseded) == (35, {0: 1})


def test_a_correction_is_not_a_conflict() -> None:
    result = resolve(
        [_said("jo@lumen.io", turn=1), _said("jo.park@lumen.io", turn=3, correction=True)]
    )
    assert result.conflicts == set()


def test_correction_does_not_supersede_what_is_said_after_it() -> None:
    result = resolve(
        [
            _said("a@lumen.io", turn=1, correction=True),
            _said("b@lumen.io", turn=3, confidence=0.5),
        ]
    )
    assert 1 not in result.superseded


def test_candidates_are_settled_in_conversation_order_whatever_order_they_come_in() -> None:
    result = resolve(
        [
            _said("jo.park@lumen.io", turn=3, correction=True, confidence=0.5),
            _said("jo@lumen.io", turn=1),
        ]
    )
    assert (result.values["email"], result.superseded) == ("jo.park@lumen.io", {1: 0})


def test_different_values_without_a_correction_are_flagged_as_a_conflict() -> None:
    result = resolve([_said(20, field="seats", turn=1), _said(25, field="seats", turn=3)])
    assert result.conflicts == {"seats"}


def test_in_a_conflict_the_higher_confidence_wins() -> None:
    result = resolve(
        [
            _said(20, field="seats", turn=1, confidence=0.9),
            _said(25, field="seats", turn=3, confidence=0.6),
        ]
    )
    assert result.values["seats"] == 20


def test_in_a_conflict_of_equal_confidence_the_later_value_wins() -> None:
    result = resolve(
        [
            _said(20, field="seats", turn=1, confidence=0.85),
            _said(25, field="seats", turn=3, confidence=0.85),
        ]
    )
    assert result.values["seats"] == 25


def test_in_a_tie_within_one_message_the_later_position_wins() -> None:
    result = resolve(
        [
            _said(25, field="seats", turn=1, position=40, confidence=0.85),
            _said(20, field="seats", turn=1, position=3, confidence=0.85),
        ]
    )
    assert result.values["seats"] == 25


def test_same_value_from_rules_and_model_corroborates() -> None:
    result = resolve(
        [
            _said("Lumen Labs", field="company", turn=1, confidence=0.8),
            _said("Lumen Labs", field="company", turn=1, confidence=0.55, extractor="model"),
        ]
    )
    assert (result.current["company"], result.conflicts) == ([0, 1], set())


def test_values_differing_only_in_case_spacing_or_full_stop_corroborate() -> None:
    result = resolve(
        [
            _said("Lumen Labs Inc.", field="company", turn=1, confidence=0.8),
            _said("lumen  labs inc", field="company", turn=2, confidence=0.55, extractor="model"),
        ]
    )
    assert (result.current["company"], result.conflicts) == ([0, 1], set())


def test_same_value_keeps_the_spelling_of_the_surer_extractor() -> None:
    result = resolve(
        [
            _said("lumen labs", field="company", turn=1, confidence=0.55, extractor="model"),
            _said("Lumen Labs", field="company", turn=1, confidence=0.8),
        ]
    )
    assert result.values["company"] == "Lumen Labs"


def test_fields_are_settled_independently() -> None:
    result = resolve(
        [
            _said("jo@lumen.io", turn=1),
            _said(12, field="seats", turn=1),
            _said(14, field="seats", turn=2, correction=True),
        ]
    )
    assert result.values == {"email": "jo@lumen.io", "seats": 14}


def test_no_candidates_settle_nothing() -> None:
    result = resolve([])
    assert (result.values, result.conflicts, result.superseded) == ({}, set(), {})


def test_a_staff_correction_stands_against_anything_read_later() -> None:
    result = resolve(
        [
            _said("jo@lumen.io", turn=1),
            _said("jo.park@lumen.io", turn=0, extractor="staff", confidence=1.0),
            _said("jo@lumen.io", turn=5, correction=True, confidence=0.95),
        ]
    )
    assert result.values["email"] == "jo.park@lumen.io"
    assert (result.current["email"], result.superseded) == ([1], {0: 1, 2: 1})
    assert not result.conflicts


def test_of_several_staff_corrections_the_last_made_stands() -> None:
    result = resolve(
        [
            _said("b@lumen.io", turn=0, extractor="staff", position=9),
            _said("a@lumen.io", turn=0, extractor="staff", position=0),
        ]
    )
    assert result.values["email"] == "a@lumen.io"


def test_a_staff_correction_to_nothing_clears_the_field() -> None:
    result = resolve([_said("jo@lumen.io", turn=1), _said(None, turn=0, extractor="staff")])
    assert "email" not in result.values
    assert result.superseded == {0: 1}
