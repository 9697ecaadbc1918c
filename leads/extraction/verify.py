"""The quote check: a value stands only if its quote is in the message and says that value.

The model may not invent facts: a quote that is not in the visitor's message, or one that does
not contain the value it is offered for, discards the candidate.
"""

from __future__ import annotations

import re

import phonenumbers

from leads.extraction.facts import Candidate, same_value
from leads.extraction.rules import authority, budget, seats, timeline
from leads.extraction.rules.contact import DOT_RE, EMAIL
from leads.extraction.rules.runs import PARTICLES
from leads.extraction.rules.titles import title_word
from leads.extraction.text import Span, clean, is_injection, quote_in, quote_key, sentences


def supported(candidate: Candidate, message: str, *, region: str) -> bool:
    """Whether `candidate` rests on a real quote from `message` that states its value."""
    quote = candidate.quote
    if not quote_in(quote, message):
        return False
    if any(
        is_injection(s.text) and quote_key(quote) in quote_key(s.text)
        for s in sentences(clean(message))
    ):
        return False
    return _states(candidate.field, candidate.value, clean(quote), region)


def _states(field: str, value: object, quote: str, region: str) -> bool:
    """Whether `quote` states `value` for `field`, by the same recognisers the rules use."""
    key = quote_key(quote)
    if field == "email":
        spelled = {
            f"{DOT_RE.sub('.', m['local'])}@{DOT_RE.sub('.', m['domain'])}".casefold()
            for m in EMAIL.finditer(quote)
        }
        return str(value).casefold() in spelled
    if field == "phone":
        for match in phonenumbers.PhoneNumberMatcher(quote, region or "US"):
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            if e164 == value:
                return True
        return False
    if field in ("name", "company", "job_title"):
        return isinstance(value, str) and value in quote and _plausible(field, value)
    if field == "need":
        return isinstance(value, str) and quote_key(value) in key
    span = Span(quote, 0)
    if field == "seats":
        said = [f.value for f in seats.seats(quote, asked_count=True, before_text="")]
        return value in said
    if field == "timeline_months":
        said = [f.value for f in timeline.timeline(quote, asked_when=True, before_text="")]
        return value in said
    if field in ("budget_amount", "budget_currency"):
        said = [
            f.value
            for f in budget.budget(quote, region=region, asked_budget=True, before_text="")
            if f.field == field
        ]
        return any(same_value(field, value, s) for s in said)
    if field == "is_decision_maker":
        return value in [f.value for f in authority.decision_maker(span)]
    return False


def _plausible(field: str, value: str) -> bool:
    """A name, company or title is a few words, not a sentence, an address or a number."""
    words = value.split()
    if not words or re.search(r"[@\d<>{}]|https?:", value) or value.endswith(("?", "!")):
        return False
    if field == "name":
        return len(words) <= 4 and all(w[:1].isupper() or w in PARTICLES for w in words)
    if field == "company":
        # "Initech Worldwide Logistics and Freight Solutions GmbH" is a name, not a sentence.
        return len(words) <= 8 and words[0][:1].isupper()
    return len(words) <= 8 and any(title_word(w) for w in words)
