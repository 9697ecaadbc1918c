"""BANT scoring and status rules: pure functions over a lead's facts, no database.

Each component earns a fraction of its weight; the weights are scaled so they total 100:

| component | full share          | partial share                         | nothing               |
|-----------|---------------------|---------------------------------------|-----------------------|
| budget    | an amount above 0   | -                                     | no amount, 0, or only |
|           |                     |                                       | a currency            |
| authority | decision maker      | not the decider: 1/3 (a path to them) | unknown               |
| need      | need text           | seats only: 1/2 (sized, not said why) | neither               |
| timeline  | start in 0-3 months | 4-6: 2/3, 7-12: 1/3, later: 1/6       | unknown               |
| contact   | email or phone      | name only: 1/3                        | none                  |

A currency without an amount scores nothing: it says how they would pay, not whether they can,
and a bare "$" in a message is enough for extraction to record one.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from leads.errors import ScoringConfigInvalid, StatusInvalid

COMPONENTS = ("budget", "authority", "need", "timeline", "contact")

NEW = "new"
ENGAGED = "engaged"
QUALIFIED = "qualified"
DISQUALIFIED = "disqualified"
STATUSES = (NEW, ENGAGED, QUALIFIED, DISQUALIFIED)

# Once here, only a person moves the lead: scoring never takes back a qualification or a
# rejection made on evidence it cannot see.
_FINAL = (QUALIFIED, DISQUALIFIED)


def weights_validate(weights: object) -> dict[str, int]:
    """The weights by component (missing ones 0), or ScoringConfigInvalid saying what to fix."""
    if not isinstance(weights, Mapping):
        raise ScoringConfigInvalid(
            f"score weights must be an object of component to points, got {type(weights).__name__}"
        )
    known = ", ".join(COMPONENTS)
    unknown = sorted(str(key) for key in weights if key not in COMPONENTS)
    if unknown:
        raise ScoringConfigInvalid(
            f"unknown score weight {', '.join(unknown)}: the components are {known}"
        )
    validated: dict[str, int] = {}
    for key in COMPONENTS:
        value = weights.get(key, 0)
        # bool is an int to Python, but `true` in the JSON is a mistake, not 1 point.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScoringConfigInvalid(
                f"score weight {key} must be a whole number of points, got {value!r}"
            )
        if value < 0:
            raise ScoringConfigInvalid(f"score weight {key} must be 0 or more, got {value}")
        validated[key] = value
    if sum(validated.values()) == 0:
        raise ScoringConfigInvalid(
            f"score weights are all 0: give points to at least one of {known}"
        )
    return validated


def score_compute(*, facts: Mapping[str, object], weights: Mapping[str, int]) -> int:
    """The lead's score from 0 to 100: each component's share of its weight, scaled to 100."""
    validated = weights_validate(weights)
    earned = component_fractions(facts)
    total = sum(validated.values())
    points = sum((validated[key] * earned[key] for key in COMPONENTS), Fraction(0))
    # Half up, not Python's half-to-even: 69.5 should reach a threshold of 70.
    return int(points * 100 / total + Fraction(1, 2))


def component_fractions(facts: Mapping[str, object]) -> dict[str, Fraction]:
    """The share, from 0 to 1, each component earns from the facts."""
    return {
        "budget": _budget(facts),
        "authority": _authority(facts),
        "need": _need(facts),
        "timeline": _timeline(facts),
        "contact": _contact(facts),
    }


def status_for(
    *,
    score: int,
    current: str,
    engaged_score: int,
    qualified_score: int,
    reachable: bool = True,
) -> str:
    """The status scoring gives a lead: only ever forward, never out of qualified/disqualified.

    An engaged lead whose score drops (a corrected budget) stays engaged: it did engage, and a
    dashboard where leads flicker back to new would hide the conversations worth reading.
    A lead nobody can reach (no email, no phone) is not qualified whatever its score: the
    hand-off would give sales nothing to act on.
    """
    if current not in STATUSES:
        raise StatusInvalid(
            f"unknown lead status {current!r}: the statuses are {', '.join(STATUSES)}"
        )
    if current in _FINAL:
        return current
    if score >= qualified_score and reachable:
        return QUALIFIED
    if score >= engaged_score:
        return ENGAGED
    return current


def _budget(facts: Mapping[str, object]) -> Fraction:
    amount = _number(facts.get("budget_amount"))
    return Fraction(1) if amount is not None and amount > 0 else Fraction(0)


def _authority(facts: Mapping[str, object]) -> Fraction:
    decides = facts.get("is_decision_maker")
    if decides is True:
        return Fraction(1)
    if decides is False:
        return Fraction(1, 3)
    return Fraction(0)


def _need(facts: Mapping[str, object]) -> Fraction:
    if _text(facts.get("need")):
        return Fraction(1)
    seats = _number(facts.get("seats"))
    return Fraction(1, 2) if seats is not None and seats > 0 else Fraction(0)


def _timeline(facts: Mapping[str, object]) -> Fraction:
    months = _number(facts.get("timeline_months"))
    if months is None or months < 0:
        return Fraction(0)
    if months <= 3:
        return Fraction(1)
    if months <= 6:
        return Fraction(2, 3)
    if months <= 12:
        return Fraction(1, 3)
    return Fraction(1, 6)


def _contact(facts: Mapping[str, object]) -> Fraction:
    if _text(facts.get("email")) or _text(facts.get("phone")):
        return Fraction(1)
    return Fraction(1, 3) if _text(facts.get("name")) else Fraction(0)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _number(value: object) -> Decimal | None:
    # Facts come from the model (Decimal, int) or straight from extraction JSON (str, float).
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int | float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None
