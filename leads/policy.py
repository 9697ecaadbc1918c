"""The conversation policy: what the assistant asks for next, and what it must not do.

Pure functions over a lead's known facts, so the reply prompt, the tests and the dashboard
agree on it. The assistant answers first, then asks for one missing fact at a time, in the
Site's order, never again for one already given or declined.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from leads.models import LEAD_FIELDS

# Which stored facts answer each qualification field.
FIELD_FACTS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "company": ("company",),
    "job_title": ("job_title",),
    "need": ("need",),
    "seats": ("seats",),
    "budget": ("budget_amount", "budget_currency"),
    "timeline": ("timeline_months",),
    "decision_maker": ("is_decision_maker",),
    "email": ("email",),
    "phone": ("phone", "email"),  # one way to reach them is enough
}
QUESTIONS: dict[str, str] = {
    "name": "ask for their name",
    "company": "ask which company they are with",
    "job_title": "ask what their role is",
    "need": "ask what they are looking for",
    "seats": "ask how many people would use it",
    "budget": "ask whether they have a budget in mind",
    "timeline": "ask when they would like to get started",
    "decision_maker": "ask who decides on the purchase",
    "email": "ask for the best email address to reach them",
    "phone": "ask for a phone number, if they prefer a call",
}
LABELS: dict[str, str] = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "company": "company",
    "job_title": "role",
    "budget_amount": "budget",
    "budget_currency": "budget currency",
    "seats": "seats",
    "timeline_months": "months until they start",
    "is_decision_maker": "decides on the purchase",
    "need": "looking for",
}


def known(facts: Mapping[str, object]) -> dict[str, object]:
    """The facts that hold a value."""
    return {k: v for k, v in facts.items() if v not in (None, "", [])}


def answered(field: str, facts: Mapping[str, object]) -> bool:
    """Whether `facts` already answer qualification field `field`."""
    have = known(facts)
    return any(f in have for f in FIELD_FACTS.get(field, ()))


def next_field(
    *, order: Iterable[str], facts: Mapping[str, object], declined: Iterable[str]
) -> str | None:
    """The first field of `order` neither answered nor declined, or None when all are."""
    skip = set(declined)
    for field in order:
        if field in FIELD_FACTS and field not in skip and not answered(field, facts):
            return field
    return None


def instruction(*, field: str | None, qualified: bool, next_step: str) -> str:
    """What the assistant should do after answering: ask one thing, or hand over."""
    if qualified:
        step = f" Offer this next step: {next_step.strip()}" if next_step.strip() else ""
        return (
            "thank them and say that a person from the team will follow up with them "
            f"shortly.{step} Do not ask for more details."
        )
    if field is None:
        return "do not ask for more details."
    return (
        f"{QUESTIONS[field]}, and only that, in one short question. If they would rather not "
        "say, accept it politely and move on."
    )


def known_summary(facts: Mapping[str, object]) -> str:
    """The facts already given, in a form the prompt can list ("none yet" when empty)."""
    have = known(facts)
    if not have:
        return "none yet."
    parts = []
    for name, value in have.items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        parts.append(f"{LABELS.get(name, name)}: {value}")
    return "; ".join(parts) + "."


_DECLINE = re.compile(
    r"\b(?:rather not|prefer not|i'd prefer not|no thanks|no thank you|not (?:now|yet|sharing)|"
    r"won't (?:share|give|say)|don't (?:want to|give out|share)|not giving|none of your business|"
    r"skip (?:that|it|this)|pass on that|not comfortable|keine angabe|lieber nicht|"
    r"möchte ich nicht|je préfère ne pas|pas maintenant|prefiero no|mejor no|prefiro não|"
    r"preferisco di no|liever niet)\b",
    re.IGNORECASE,
)


def declines(text: str) -> bool:
    """Whether a visitor's message turns down the question it answers."""
    return bool(_DECLINE.search(text))


def validate_fields(fields: Iterable[str]) -> list[str]:
    """A Site's qualification fields, checked: unknown names are an error that lists the known."""
    fields = list(fields)
    unknown = [f for f in fields if f not in LEAD_FIELDS]
    if unknown:
        raise ValueError(
            f"unknown qualification field {unknown[0]!r}; known: {', '.join(LEAD_FIELDS)}"
        )
    return fields
