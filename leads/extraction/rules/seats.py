"""Seats: how many people would use the product, a number that counts because of its nouns."""

from __future__ import annotations

import re
from collections.abc import Iterator

from leads.extraction import wordlists
from leads.extraction.numbers import COUNT, MULTIPLIER, count_value
from leads.extraction.rules.common import Found, is_correction, is_hedged

# Nouns that count seats whatever the sentence says ...
SEAT_NOUNS = wordlists.alternation("seat_nouns")
# ... and nouns that count people, who are seats only if the sentence says they will use it:
# "for 60 employees", "40 staff, they'd all need the app", not "we have 15 employees".
PEOPLE_NOUNS = wordlists.alternation("people_nouns")
_USE = re.compile(
    r"\b(?:need|needs|needed|use|using|access|log ?in|logins?|seats?|licen[cs]e|would all|"
    r"will all|necesit|precis|acceso|acesso|brauch|zugang|nutzen|accès|utiliser|usar|"
    r"utilizar|usare|accesso|gebruik|toegang|werken|arbeiten|travailler|trabajar|lavorare|"
    r"trabalhar|work with|work on it)",
    re.IGNORECASE,
)
_FOR = re.compile(r"\b(?:for|für|pour|para|per|voor)\s+(?:all\s+|the\s+)?$", re.IGNORECASE)
_GAP = r"(?:\s+(?:[^\W\d]+\s+){0,2}?|-)"
_SEATS = re.compile(rf"(?<![\w$€£¥₹.,-])(?P<n>{COUNT}){_GAP}(?:{SEAT_NOUNS})\b", re.IGNORECASE)
_PEOPLE = re.compile(rf"(?<![\w$€£¥₹.,-])(?P<n>{COUNT}){_GAP}(?:{PEOPLE_NOUNS})\b", re.IGNORECASE)
# "only 12 need access", "5 of us need it", "solo 12 necesitan acceso".
_ONLY = re.compile(
    rf"(?:\b(?:only|just|solo|sólo|só|nur|seulement|solo|alleen)\s+)?(?P<n>{COUNT})"
    r"(?:\s+(?:of us|of them|de nosotros|von uns|d'entre nous|van ons|di noi|de nós))?"
    r"(?:\s+[^\W\d]+){0,3}?\s+(?:need|needs|will use|would use|use|necesitan|precisam|"
    r"brauchen|benötigen|ont besoin|utiliseront|usarán|useranno|hebben nodig)\b",
    re.IGNORECASE,
)
_TOTAL = re.compile(
    rf"\b(?:so|that's|thats|that is|makes?|=)\s+(?P<n>{COUNT})\s+"
    rf"(?:(?:\w+\s+)?(?:{SEAT_NOUNS}|{PEOPLE_NOUNS})\s+)?"
    r"(?:in total|total|all up|altogether|overall)|(?P<m>\d+)\s+(?:in total|total)\b"
    rf"|\bso\s+(?P<k>{COUNT})\s+(?:{SEAT_NOUNS})\b",
    re.IGNORECASE,
)
_NOT_SEATS_BEFORE = re.compile(
    r"\b(?:hiring|hire|adding|add|plus|another|extra|more|additional|last|past|with)\s+$"
    r"|\bof\s+$|-$",
    re.IGNORECASE,
)
_CORRECTED_COUNT = re.compile(
    r"\b(?:actually|make (?:it|that)|correction|sorry|i mean|rather|wait|no wait|scratch that|"
    r"corrected)\b[^.!?\d]{0,40}?"
    rf"(?<![\w$€£])(?P<n>{COUNT})\b(?!\s*(?:k\b|%|[$€£]))",
    re.IGNORECASE,
)
_HOW_MANY = re.compile(
    r"how many|how big|what size|how large|number of (?:users|seats|people)|"
    r"wie viele|combien|cu[aá]nt[oa]s|quant[oa]s|quanti|hoeveel|all (?:\w+ )?of you",
    re.IGNORECASE,
)
_BARE_COUNT = re.compile(
    rf"(?<![\w$€£¥₹.,-])(?P<n>{COUNT})(?![\w%$€£-]|[.,]\d|\s*(?:{MULTIPLIER}))",
    re.IGNORECASE,
)

# Words before "one" that make it a pronoun ("this one", "the new one"), not a number.
_PRONOUN_ONE = re.compile(
    r"\b(?:this|that|the|which|each|every|any|no|another|same|other|a|an|new|right|big|"
    r"good|next|last|first|current|old)\s+$",
    re.IGNORECASE,
)


def seats(text: str, *, asked_count: bool, before_text: str) -> Iterator[Found]:
    """How many people would use the product."""
    found = bool(_SEATS.search(before_text))  # a correction may come a sentence later

    def candidate(match: re.Match[str], group: str, confidence: float) -> Found | None:
        before = text[: match.start(group)]
        value = count_value(match[group])
        if not value or value >= 1_000_000 or _NOT_SEATS_BEFORE.search(before):
            return None
        if is_hedged(before, text[match.end(group) :]) or is_hedged("", text[match.end() :]):
            return None
        if re.match(r"\d+-\w", match.group()):
            return None  # "a 6-person startup" is the company's size
        return Found(
            "seats",
            value,
            match.start(),
            match.end(),
            confidence,
            is_correction(before_text + before),
        )

    results: list[Found | None] = []
    for match in _TOTAL.finditer(text):
        group = "n" if match["n"] else "m" if match["m"] else "k"
        results.append(candidate(match, group, 0.9))
    for match in _ONLY.finditer(text):
        results.append(candidate(match, "n", 0.9))
    for match in _SEATS.finditer(text):
        results.append(candidate(match, "n", 0.85))
    for match in _PEOPLE.finditer(text):
        if _USE.search(text) or _FOR.search(text[: match.start()]):
            results.append(candidate(match, "n", 0.75))
    for item in results:
        if item is not None:
            found = True
            yield item
    for match in _CORRECTED_COUNT.finditer(text):
        value = count_value(match["n"])
        if found and value:
            yield Found("seats", value, match.start(), match.end(), 0.95, True)
    if not found and asked_count and not before_text.strip() and len(text.split()) <= 8:
        # A short answer to "how many?": "Yep, all 6."
        for match in _BARE_COUNT.finditer(text):
            if _PRONOUN_ONE.search(text[: match.start()]) and match["n"].casefold() == "one":
                continue  # "like this one" points at a thing, it counts nobody
            item = candidate(match, "n", 0.7)
            near = text[max(0, match.start() - 2) : match.end() + 2]
            if item is not None and not re.search(r"[$€£¥₹]", near):
                yield item
                break


def asked_for_count(question: str) -> bool:
    """Whether the assistant's question asks how many people would use it."""
    return bool(_HOW_MANY.search(question))


_SEAT_LABEL = re.compile(
    rf"^\s*[-*•]?\s*(?:seats|users|licen[cs]es|logins|nutzer|lizenzen|utilisateurs|licences|"
    rf"usuarios|licencias|usuários|licenças|utenti|licenze|gebruikers)\s*:\s*(?P<n>{COUNT})\s*$",
    re.IGNORECASE | re.MULTILINE,
)


def labelled_seats(text: str) -> Iterator[Found]:
    """A form's "Seats: 48"."""
    for match in _SEAT_LABEL.finditer(text):
        value = count_value(match["n"])
        if value:
            yield Found("seats", value, match.start("n"), match.end("n"), 0.9)
