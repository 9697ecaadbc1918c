"""The values extraction works with: conversation turns and candidate facts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Value = str | int | bool | Decimal


# Who gave a value: an extractor reading a message, the host page (identify()), or a rep.
Source = Literal["rules", "model", "host", "staff"]


@dataclass(frozen=True)
class Turn:
    """One message of a conversation; `id` is the stored message's id, or its index."""

    id: int
    role: Literal["visitor", "assistant"]
    text: str


@dataclass(frozen=True)
class Candidate:
    """A value one extractor read from one visitor message.

    `position` orders candidates within a message (character offset of the quote), so that a
    later statement in the same message ("25 seats. Actually make that 28") comes after.
    `correction` is set when the visitor marked it as replacing what they said before.
    """

    field: str
    value: Value | None  # None only from staff, who cleared the field
    turn: int  # index into the conversation's turns
    quote: str
    extractor: Source
    confidence: float
    position: int = 0
    correction: bool = False


def same_value(field: str, a: object, b: object) -> bool:
    """Whether two values of `field` say the same thing (case and spacing aside for text)."""
    if a is None or b is None:
        return a is b
    if isinstance(a, str) and isinstance(b, str):
        return _text_key(a) == _text_key(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except ArithmeticError:
        return False


def _text_key(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".")
