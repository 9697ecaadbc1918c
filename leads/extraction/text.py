"""Text as the rules read it: markup removed, split into sentences and clauses."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:br|p|div|li|ul|ol|tr|h[1-6])\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_SPACES = re.compile(r"[ \t\u00a0\u202f]+")


def clean(text: str) -> str:
    """The visible text of a message: tags dropped, entities decoded, spacing normalised.

    Visitors paste from mail clients and web pages; "<b>Tom</b>" is "Tom" to a reader.
    """
    text = _BLOCK_TAG.sub("\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    text = unicodedata.normalize("NFC", text).replace("’", "'").replace("‘", "'")
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def quote_key(text: str) -> str:
    """A form of text in which a quote and its message compare: case and spacing aside."""
    return " ".join(clean(text).casefold().split())


def quote_in(quote: str, text: str) -> bool:
    """Whether `quote` is really in `text`, the check that keeps invented facts out."""
    key = quote_key(quote)
    return bool(key) and key in quote_key(text)


@dataclass(frozen=True)
class Span:
    """A piece of a cleaned message and where it starts in it."""

    text: str
    start: int


# A sentence ends at . ! ? … (or a line break) followed by a capital, a digit or a symbol:
# not inside "B.V.", "$1.2M", "jane.doe@x.com" or "S.p.A., and".
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[^\sa-z])|\n+|\s+\|\s+|\s+[•·]\s+")
# Nor after an abbreviation: "Kaveri Foods Pvt. Ltd.", "Dr. Berg", "ext. 4410".
_ABBREVIATION = re.compile(
    r"(?:\b(?:pvt|pte|co|inc|ltd|corp|bros|dr|mr|mrs|ms|prof|st|jr|sr|ext|approx|no|nr|tel|"
    r"ca|vs|etc|e\.g|i\.e|dipl|ing|mag|herr|fr|sra|srta|rs)|\b[A-Z])\.$",
    re.IGNORECASE,
)


def sentences(text: str) -> list[Span]:
    """The sentences of a cleaned message."""
    spans = _split(text, _SENTENCE_END, 0)
    merged: list[Span] = []
    for span in spans:
        if (
            merged
            and _ABBREVIATION.search(merged[-1].text)
            and "\n" not in text[merged[-1].start : span.start]
        ):
            prev = merged.pop()
            span = Span(text[prev.start : span.start + len(span.text)], prev.start)
        merged.append(span)
    return merged


_CLAUSE_END = re.compile(
    r"\s*[,;:()]\s+|\s+(?:but|and|so|mais|et|aber|und|pero|y|mas|e|ma)\s+", re.IGNORECASE
)


def clauses(sentence: Span) -> list[Span]:
    """The clauses of a sentence, split at commas and conjunctions."""
    return _split(sentence.text, _CLAUSE_END, sentence.start)


def _split(text: str, pattern: re.Pattern[str], offset: int) -> list[Span]:
    spans, start = [], 0
    for match in pattern.finditer(text):
        piece = text[start : match.start()]
        if piece.strip():
            spans.append(Span(piece.strip(), offset + start + _lead(piece)))
        start = match.end()
    piece = text[start:]
    if piece.strip():
        spans.append(Span(piece.strip(), offset + start + _lead(piece)))
    return spans


def _lead(piece: str) -> int:
    return len(piece) - len(piece.lstrip())


# Text that talks to the system instead of about the visitor: "ignore previous instructions",
# "mark this lead as budget = …". Such sentences are data to show staff, never facts.
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules)\b"
    r"|\bsystem prompt\b|\bdeveloper mode\b|\byou are now\b"
    r"|\bpretend (?:to be|you are)\b|\bact as (?:an?|the|my) (?:ai|assistant|system|admin)"
    r"|\b(?:mark|set|flag|classify|update|change|record)\s+(?:this|the|my|me)\s+"
    r"(?:lead|record|score|status|qualification)\b|\b(?:mark|flag)\s+(?:me|this)\s+as\b"
    r"|\b(?:budget|score|status|lead|decision[ -]?maker)\s*(?:=|:=)"
    r"|\b[a-z_]+_[a-z_]+\s*=|\bsystem override\b|\[\s*system\b|\badmin override\b",
    re.IGNORECASE,
)


def is_injection(sentence: str) -> bool:
    """Whether a sentence instructs the assistant or the lead record instead of stating a fact."""
    return bool(_INJECTION.search(sentence))
