"""Authority (is the visitor the one who decides?) and need (what they are looking for)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from leads.extraction.rules.common import ROLE_WORDS, Found, about_someone_else
from leads.extraction.text import Span, clauses

_DECIDES = re.compile(
    r"final (?:say|call|decision|word|sign-?off|approval)|sign(?:s|ing)?[- ]?off|sign-?off|"
    r"\bdecid(?:e|es|er|ing)\b|decision[- ]?maker|the (?:call|decision) is (?:mine|theirs|his|hers)"
    r"|\bapprov(?:e|es|ing|al)\b|own(?:s)? the budget|budget owner|holds? the budget|"
    r"responsible for the (?:final )?(?:\w+ )?decision|makes? the (?:final )?(?:call|decision)|"
    r"has the last word|entscheid|entscheidung|valide|décide|décision|decisión|decide|"
    r"última palabra|ultima palavra|última palavra|aprova|aprueba|approva|decide|beslis|"
    r"freigeb|freigabe|genehmig|absegn|gibt\b.{0,40}\bfrei\b|approver|approuv|decisione|"
    r"spetta|décideur|decisor|beslisser|\bkeur\b|goedkeur|\bmy call\b|\bmy decision\b|\bup to me\b|"
    r"\bdecisión es mía\b|\bdecisão é minha\b|\bich entscheide\b|\bje décide\b|"
    r"\bdecido yo\b|\bdecido eu\b|\bik beslis\b|\bdecido io\b",
    re.IGNORECASE,
)
_ME = re.compile(
    r"\b(?:i|i'm|i am|i've|i'll|me|mine|my call|my decision|up to me|myself|moi|ich|je|j'|"
    r"yo|eu|io|ik|mía|mío|minha|meu|mia|mio|mijn|zelf)\b",
    re.IGNORECASE,
)
_NOT_ME = re.compile(
    r"\bnot me\b|\bnicht ich\b|\bpas moi\b|\bno yo\b|\bnão eu\b|\bnon io\b|\bniet ik\b"
    r"|\bi(?:'m| am) (?:just|only) (?:shortlisting|researching|evaluating|looking|gathering)"
    r"|\bon the evaluation team\b|\bmake the case\b|\bneed (?:sign-?off|approval)\b"
    r"|\bnot the (?:decision[- ]maker|one who decides)\b|\bdon't decide\b|\bcan't decide\b"
    r"|\b(?:have|has|need) to (?:get|have) (?:it|this|that) approved\b|\bfaire approuver\b"
    r"|\bsó faço\b|\bsolo hago\b|\bonly do the\b|\bjust (?:doing|gathering) the\b",
    re.IGNORECASE,
)
_THEM = re.compile(
    rf"\b(?:he|she|they|he'll|she'll|they'll|he's|she's|er|sie|il|elle|ils|él|ella|ele|ela|"
    rf"lui|lei|hij|zij)\b|\b(?:the|our|my|unser\w*|nosso|nossa|notre|mi|mio|onze|mijn)\s+"
    rf"(?:[\w-]+\s+){{0,2}}(?:{ROLE_WORDS})\b|\b(?:{ROLE_WORDS})\b",
    re.IGNORECASE,
)


def decision_maker(sentence: Span) -> Iterator[Found]:
    """Whether the visitor decides: "the call is mine" → yes; "our COO signs off" → no.

    The quote is the whole sentence: who decides is often said across its clauses.
    """
    text = sentence.text
    if _NOT_ME.search(text) and (_DECIDES.search(text) or "case" in text.casefold()):
        yield Found("is_decision_maker", False, 0, len(text), 0.8)
        return
    for clause in clauses(sentence):
        if not _DECIDES.search(clause.text):
            continue
        if _THEM.search(clause.text):
            yield Found("is_decision_maker", False, 0, len(text), 0.8)
        elif _ME.search(clause.text):
            yield Found("is_decision_maker", True, 0, len(text), 0.85)
        elif about_someone_else(text) or _THEM.search(text):
            yield Found("is_decision_maker", False, 0, len(text), 0.7)
        elif _ME.search(text):
            yield Found("is_decision_maker", True, 0, len(text), 0.7)
        return


_NEED = re.compile(
    r"\b(?:looking (?:for|at|to)|we need|i need|need (?:a|an|some|to)|require|searching for|"
    r"in the market for|after an?|want to (?:replace|switch|move|digitali[sz]e)|replacing|"
    r"evaluating|interested in|wir suchen|suchen|nous cherchons|cherchons|precisamos|"
    r"buscamos|queremos|necesitamos|cerchiamo|abbiamo bisogno|we zoeken|zoeken)\b",
    re.IGNORECASE,
)


def need(sentence: Span) -> Iterator[Found]:
    """What the visitor is looking for, in their own words."""
    if _NEED.search(sentence.text) and len(sentence.text) <= 300:
        yield Found("need", sentence.text, 0, len(sentence.text), 0.6)
