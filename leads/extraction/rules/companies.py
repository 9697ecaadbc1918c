"""The visitor's company where it is named apart from who they are: "our clinic, Harbourside
Physio", "soy José Núñez, de Conservas Ribera"."""

from __future__ import annotations

import re
from collections.abc import Iterator

from leads.extraction.rules.common import Found
from leads.extraction.rules.runs import NOT_NAMES, run_at
from leads.extraction.rules.titles import is_title

_ORG_NOUN = re.compile(
    r"\b(?:company|business|firm|clinic|practice|agency|startup|start-up|shop|store|studio|"
    r"restaurant|school|organi[sz]ation|nonprofit|charity|brand|group|team|employer|chain|"
    r"café|cafe|bakery|salon|gym|hotel|firma|empresa|entreprise|bedrijf|azienda)"
    r"(?:\s+(?:is|is called|called|named))?\s*(?:[,:.]|\s[^\w\s]+)?\s+(?=[A-ZÀ-Þ])",
    re.IGNORECASE,
)


def company_after(text: str, pos: int, found: list[Found]) -> None:
    """ "soy José Núñez, de Conservas Ribera": a company right after the name."""
    match = re.match(r"(?:from|de|da|von|di|of)\s+(?=[A-ZÀ-Þ])", text[pos:], re.IGNORECASE)
    if match:
        org = run_at(text, pos + match.end(), "org")
        if org and not is_title(org):
            found.append(Found("company", org.text, org.start, org.end, 0.8))


def companies_named_after(text: str) -> Iterator[Found]:
    """ "our family business, Kessler & Sons", "for our clinic. Harbourside Physio, 3 …"."""
    for match in _ORG_NOUN.finditer(text):
        before = text[max(0, match.start() - 40) : match.start()].casefold()
        if not re.search(
            r"\b(?:our|my|we(?:'re| are) an?|(?:i|we) (?:run|own|have) an?|the)\b", before
        ):
            continue
        org = run_at(text, match.end(), "org")
        if org and not is_title(org) and org.words[0].casefold() not in NOT_NAMES:
            yield Found("company", org.text, org.start, org.end, 0.6)
