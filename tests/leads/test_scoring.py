"""BANT scoring and status rules, without a database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leads.errors import ScoringConfigInvalid
from leads.scoring import (
    COMPONENTS,
    score_compute,
    status_for,
    weights_validate,
)

DEFAULT_WEIGHTS = {"budget": 25, "authority": 20, "need": 20, "timeline": 20, "contact": 15}
FULL_FACTS = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone": "+14155550123",
    "company": "Analytical Engines",
    "job_title": "CTO",
    "budget_amount": Decimal("20000.00"),
    "budget_currency": "USD",
    "seats": 40,
    "timeline_months": 2,
    "is_decision_maker": True,
    "need": "Route support chats to the right team",
}


def _only(component: str, facts: dict[str, object]) -> int:
    """The score when `component` alone carries weight: its share, as a percentage."""
    return score_compute(facts=facts, weights={component: 1})


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"budget_amount": Decimal("5000")}, 100),
        ({"budget_amount": Decimal("5000"), "budget_currency": "EUR"}, 100),
        ({"budget_amount": 5000}, 100),
        ({"budget_amount": "5000.50"}, 100),
        ({"budget_currency": "USD"}, 0),
        ({"budget_amount": Decimal("0"), "budget_currency": "USD"}, 0),
        ({"budget_amount": Decimal("-10")}, 0),
        ({"budget_amount": "lots"}, 0),
        ({"budget_amount": None}, 0),
        ({}, 0),
    ],
)
def test_budget_needs_an_amount_above_zero(facts: dict[str, object], expected: int) -> None:
    assert _only("budget", facts) == expected


@pytest.mark.parametrize(
    ("decides", "expected"),
    [(True, 100), (False, 33), (None, 0)],
)
def test_authority_gives_a_third_to_someone_who_is_not_the_decider(
    decides: bool | None, expected: int
) -> None:
    assert _only("authority", {"is_decision_maker": decides}) == expected


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"need": "A chatbot for our shop"}, 100),
        ({"need": "A chatbot for our shop", "seats": 10}, 100),
        ({"seats": 10}, 50),
        ({"seats": 0}, 0),
        ({"need": "   "}, 0),
        ({"need": ""}, 0),
        ({}, 0),
    ],
)
def test_need_is_full_for_a_stated_need_and_half_for_seats_alone(
    facts: dict[str, object], expected: int
) -> None:
    assert _only("need", facts) == expected


@pytest.mark.parametrize(
    ("months", "expected"),
    [
        (0, 100),
        (3, 100),
        (4, 67),
        (6, 67),
        (7, 33),
        (12, 33),
        (13, 17),
        (36, 17),
        (None, 0),
        (-1, 0),
    ],
)
def test_timeline_earns_less_the_later_they_start(months: int | None, expected: int) -> None:
    assert _only("timeline", {"timeline_months": months}) == expected


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"email": "ada@example.com"}, 100),
        ({"phone": "+14155550123"}, 100),
        ({"name": "Ada", "email": "ada@example.com"}, 100),
        ({"name": "Ada"}, 33),
        ({"name": " ", "email": "", "phone": ""}, 0),
        ({}, 0),
    ],
)
def test_contact_is_full_for_a_way_to_reach_them_and_a_third_for_a_name(
    facts: dict[str, object], expected: int
) -> None:
    assert _only("contact", facts) == expected


def test_a_lead_with_every_fact_scores_100() -> None:
    assert score_compute(facts=FULL_FACTS, weights=DEFAULT_WEIGHTS) == 100


def test_a_lead_with_no_facts_scores_0() -> None:
    assert score_compute(facts={}, weights=DEFAULT_WEIGHTS) == 0


def test_default_weights_add_up_the_components_earned() -> None:
    facts = {"budget_amount": Decimal("900"), "email": "a@example.com", "seats": 5}
    assert score_compute(facts=facts, weights=DEFAULT_WEIGHTS) == 25 + 15 + 10


@pytest.mark.parametrize(
    "facts",
    [
        FULL_FACTS,
        {"budget_amount": 100, "is_decision_maker": False},
        {"name": "Ada", "timeline_months": 5, "seats": 3},
        {},
    ],
)
def test_weights_are_scaled_to_100_whatever_they_sum_to(facts: dict[str, object]) -> None:
    doubled = {key: value * 2 for key, value in DEFAULT_WEIGHTS.items()}
    assert score_compute(facts=facts, weights=doubled) == score_compute(
        facts=facts, weights=DEFAULT_WEIGHTS
    )


def test_equal_weights_give_each_component_a_fifth() -> None:
    weights = dict.fromkeys(COMPONENTS, 1)
    assert score_compute(facts={"budget_amount": 10, "need": "x"}, weights=weights) == 40


def test_a_missing_weight_counts_as_zero() -> None:
    weights = {"budget": 50, "contact": 50}
    assert score_compute(facts={"email": "a@example.com", "need": "x"}, weights=weights) == 50


def test_the_score_rounds_half_up() -> None:
    weights = {"budget": 139, "contact": 61}  # budget alone: 139/200 = 69.5%
    assert score_compute(facts={"budget_amount": 1}, weights=weights) == 70


def test_weights_validate_fills_in_every_component() -> None:
    assert weights_validate({"need": 3}) == {
        "budget": 0,
        "authority": 0,
        "need": 3,
        "timeline": 0,
        "contact": 0,
    }


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"budget": 25, "bugdet": 5}, "unknown score weight bugdet"),
        ({"budget": -5}, "score weight budget must be 0 or more"),
        ({"need": 12.5}, "score weight need must be a whole number"),
        ({"timeline": "20"}, "score weight timeline must be a whole number"),
        ({"contact": True}, "score weight contact must be a whole number"),
        ({"budget": None}, "score weight budget must be a whole number"),
        ({"budget": 0, "need": 0}, "score weights are all 0"),
        ({}, "score weights are all 0"),
        ([25, 20], "must be an object"),
    ],
)
def test_unusable_weights_raise_a_config_error_naming_the_problem(
    weights: object, message: str
) -> None:
    with pytest.raises(ScoringConfigInvalid, match=message):
        weights_validate(weights)


def test_an_unknown_weight_error_lists_the_known_components() -> None:
    with pytest.raises(ScoringConfigInvalid) as info:
        weights_validate({"money": 10})
    assert "budget, authority, need, timeline, contact" in str(info.value)


def test_a_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        score_compute(facts=FULL_FACTS, weights={"budget": -1})


@pytest.mark.parametrize(
    ("score", "current", "expected"),
    [
        (0, "new", "new"),
        (19, "new", "new"),
        (20, "new", "engaged"),
        (69, "new", "engaged"),
        (70, "new", "qualified"),
        (100, "new", "qualified"),
        (69, "engaged", "engaged"),
        (70, "engaged", "qualified"),
        (0, "engaged", "engaged"),  # never back to new
        (0, "qualified", "qualified"),  # never out of qualified
        (100, "disqualified", "disqualified"),  # a person's rejection stands
    ],
)
def test_status_moves_forward_at_the_thresholds(score: int, current: str, expected: str) -> None:
    status = status_for(score=score, current=current, engaged_score=20, qualified_score=70)
    assert status == expected


def test_status_for_rejects_an_unknown_status() -> None:
    with pytest.raises(ValueError, match="new, engaged, qualified, disqualified"):
        status_for(score=50, current="hot", engaged_score=20, qualified_score=70)


def test_a_lead_nobody_can_reach_is_not_qualified_whatever_its_score() -> None:
    assert (
        status_for(
            score=95, current="engaged", engaged_score=20, qualified_score=70, reachable=False
        )
        == "engaged"
    )
