"""The conversation policy: what the assistant asks for next, and what it must not do.

Pure functions over a lead's known facts, so the reply prompt, the tests and the dashboard
agree on it. The assistant answers first, then asks for one missing fact at a time, in the
Site's order, never again for one already given or declined.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from leads.errors import FieldsInvalid
from leads.fields import DEFAULT_QUALIFICATION_ORDER, TOPIC_NAMES, prompt_label, topic


def known(facts: Mapping[str, object]) -> dict[str, object]:
    """The facts that hold a value."""
    return {k: v for k, v in facts.items() if v not in (None, "", [])}


def answered(field: str, facts: Mapping[str, object]) -> bool:
    """Whether `facts` already answer qualification field `field`."""
    if field not in TOPIC_NAMES:
        return False
    have = known(facts)
    return any(f in have for f in topic(field).answered_by)


def next_field(
    *, order: Iterable[str], facts: Mapping[str, object], declined: Iterable[str]
) -> str | None:
    """The first field of `order` neither answered nor declined, or None when all are."""
    skip = set(declined)
    for field in order:
        if field in TOPIC_NAMES and field not in skip and not answered(field, facts):
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
    # How to ask (one short question, a refusal accepted) is the system prompt's, which stays
    # the same from turn to turn; this is only what to ask.
    return f"{topic(field).question}."


# What of a visitor's value the prompt quotes: enough for a company or a job title, too little
# for a page of instructions.
QUOTED_CHARS = 120
_SPACE = re.compile(r"\s+")


def quoted(value: object) -> str:
    """`value`, from the visitor, as quoted data in a prompt: on one line, shortened, and unable
    to close its own quotes."""
    text = _SPACE.sub(" ", str(value)).strip().replace('"', "'")
    if len(text) > QUOTED_CHARS:
        text = text[: QUOTED_CHARS - 1].rstrip() + "…"
    return f'"{text}"'


def known_summary(facts: Mapping[str, object], *, told: str = "") -> str:
    """The facts already given, in a form the prompt can list ("none yet" when empty).

    With `told`, the notes the model has already read, only what they do not say yet ("nothing
    new" when that is all): each turn's note stays short, and the earlier notes stay in the
    prompt with what they said.
    """
    have = known(facts)
    if not have:
        return "none yet."
    parts = []
    for name, value in have.items():
        if isinstance(value, bool):
            said = "yes" if value else "no"
        else:  # the visitor's own words are quoted; numbers were parsed from them
            said = quoted(value) if isinstance(value, str) else str(value)
        parts.append(f"{prompt_label(name)}: {said}")
    fresh = [part for part in parts if part not in told]
    return "; ".join(fresh) + "." if fresh else "nothing new."


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
    unknown = [f for f in fields if f not in TOPIC_NAMES]
    if unknown:
        raise FieldsInvalid(
            f"unknown qualification field {unknown[0]!r}; "
            f"known: {', '.join(DEFAULT_QUALIFICATION_ORDER)}"
        )
    return fields
