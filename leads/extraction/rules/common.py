"""What every rule yields (`Found`), and the cues they share: whose fact a sentence states,
corrections, hedges."""

from __future__ import annotations

import re
from dataclasses import dataclass

from leads.extraction import wordlists
from leads.extraction.facts import Value


@dataclass(frozen=True)
class Found:
    """A value a rule read at `start:end` of the text it was given."""

    field: str
    value: Value
    start: int
    end: int
    confidence: float
    correction: bool = False


# People other than the visitor: "my manager", "our finance lead", "mi jefe", "she".
ROLE_WORDS = wordlists.alternation("role_words")
_OTHER_PERSON = re.compile(
    rf"\b(?:my|our|mein(?:e[rnms]?)?|unser(?:e[rnm]?)?|mon|ma|notre|mi|mis|nuestro|nuestra|"
    rf"meu|minha|nosso|nossa|o nosso|a nossa|il mio|la mia|il nostro|la nostra|mijn|onze)\s+"
    rf"(?:[\w-]+\s+){{0,2}}(?:{ROLE_WORDS})\b"
    r"|\b(?:loop in|cc|copy in|forward (?:it|this) to)\b(?!\s+me\b)"
    r"|\bsend (?:it|this|the \w+) to (?:her|him|them)\b"
    r"|\b(?:to|for|contact|call|email|reach)\s+(?:her|him|them)\b",
    re.IGNORECASE,
)


def about_someone_else(text: str) -> bool:
    """Whether `text` (the words before a value) says it belongs to another person."""
    return bool(_OTHER_PERSON.search(text))


_CORRECTION = re.compile(
    r"\b(?:sorry|oops|typo|actually|correction|no wait|wait|i mean|i meant|rather|instead|"
    r"make (?:it|that)|scratch that|not \w+ but|updated?|new (?:number|email|address)|"
    r"eigentlich|korrektur|pardon|plutôt|en fait|perdón|mejor dicho|na verdade|desculpa|"
    r"anzi|scusa|sorry|eigenlijk|moment|zahlendreher|verschrieben|korrigiere|"
    r"désolé|perdão|corrijo)\b",
    re.IGNORECASE,
)


def is_correction(text: str) -> bool:
    """Whether the visitor marks what follows as replacing something they said."""
    return bool(_CORRECTION.search(text))


_HEDGE_BEFORE = re.compile(
    r"\b(?:about|around|approximately|approx|roughly|maybe|perhaps|probably|possibly|"
    r"some|circa|ca|up to|at least|over|under|more than|less than|etwa|ungefähr|rund|"
    r"vielleicht|environ|peut-être|à peu près|unos|unas|aproximadamente|quizás|cerca de|"
    r"talvez|uns|umas|circa|forse|ongeveer|misschien)\W*$|~\s*$",
    re.IGNORECASE,
)
_HEDGE_AFTER = re.compile(
    r"^\W*(?:or so|or more|maybe more|maybe less|give or take|ish|\+|\s*-\s*\d|to \d|or \d|"
    r"not sure|oder so|ou plus|o más|ou mais|o più)",
    re.IGNORECASE,
)


def is_hedged(before: str, after: str) -> bool:
    """Whether a number is an estimate ("about forty", "8-10", "maybe more") not a fact."""
    return bool(_HEDGE_BEFORE.search(before) or _HEDGE_AFTER.search(after))
