"""The reply guard's checks on each sentence a model wrote (pure: no Django).

A sentence may state a number (a money amount, a percentage, a date, a duration, a count) only
when the same number is in the visitor's words or in the Site's passages the reply was given
(numbers spelt in words are not caught); it may state a
policy (where data is kept, contracts, refunds, security) only when a passage says it, in
most of the sentence's words; it must not take the visitor's own introduction as the agent's
("We're a 200-person logistics company…" said back), nor switch language. A reply is checked
sentence by sentence, so that a failing sentence is dropped and the rest stands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from leads.intents import fold
from leads.language import STOP_WORDS, language_of
from llm.sentences import sentence_ends


class Failure(StrEnum):
    AMOUNT = "amount"  # a money amount, percentage, date or number nobody gave
    POLICY = "policy"  # a policy no passage states
    ECHO = "echo"  # the visitor's own words, said as the agent's
    LANGUAGE = "language"  # not the visitor's language


# A number, with its thousands and decimal separators ("1,200", "1.200", "12,50").
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_THOUSANDS = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")
_POLICY_TERMS = re.compile(
    r"(?<!\w)(?:data|gdpr|privacy|secur\w*|stored?|hosted?|servers?|encrypt\w*|complian\w*|"
    r"refunds?|cancel\w*|contracts?|sla|uptime|warrant\w*|guarantee\w*|datos|rgpd|privacidad|"
    r"seguridad|reembolso\w*|contrato\w*|daten|dsgvo|datenschutz|sicherheit|kundig\w*|"
    r"vertrag\w*|gespeichert|donnees|confidentialite|securite|remboursement\w*|contrat\w*|"
    r"heberge\w*|dados|seguranca|dati|sicurezza|rimborso|contratt\w*|gegevens|avg|"
    r"beveiliging|opzeg\w*)(?!\w)"
)
_WORD = re.compile(r"\w+")
# A sentence states a policy in a passage's words when this share of its words is there.
POLICY_OVERLAP = 0.6
# The visitor's words said back: this many in a row, in the agent's first person.
ECHO_WORDS = 5
_FIRST_PERSON = re.compile(
    r"(?<!\w)(?:i|i'm|im|we|we're|were|our|my|me|yo|soy|somos|nuestr\w*|mi|ich|wir|unser\w*|"
    r"mein\w*|je|nous|notre|nos|mon|ma|eu|nos|nosso\w*|io|noi|nostr\w*|ik|wij|we|ons|onze)(?!\w)"
)


@dataclass(frozen=True)
class Checked:
    sentence: str
    failures: list[Failure]

    @property
    def failure(self) -> Failure | None:
        return self.failures[0] if self.failures else None


def values_in(text: str) -> set[str]:
    """The numbers `text` states (amounts, percentages, dates, durations, counts), each as one
    spelling: "1,200" and "1.200" are 1200, "12,50" is 12.50. A model that invents "10 days
    free" or "$35 per day" states a number nobody gave."""
    found = set()
    for match in _NUMBER.finditer(text):
        number = match.group()
        if _THOUSANDS.fullmatch(number):
            number = re.sub(r"[.,]", "", number)
        found.add(number.replace(",", "."))
    return found


def sentences_of(text: str) -> list[str]:
    """`text` in sentences; what follows the last sentence end is a sentence too."""
    ends = sentence_ends(text.strip(), final=True)
    out, start = [], 0
    stripped = text.strip()
    for end in ends:
        out.append(stripped[start:end].strip())
        start = end
    if stripped[start:].strip():
        out.append(stripped[start:].strip())
    return [s for s in out if s]


def sentence_failures(
    sentence: str, *, visitor: str, passages: Iterable[str], language: str | None = None
) -> list[Failure]:
    """Every reason `sentence` may not be said. `visitor`: what the visitor wrote in this
    conversation; `passages`: the Site's passages the reply was given; `language`: the
    visitor's (None: not checked)."""
    passages = list(passages)
    failures = []
    grounded = values_in(visitor).union(*(values_in(p) for p in passages))
    if not values_in(sentence) <= grounded:
        failures.append(Failure.AMOUNT)
    folded = fold(sentence)
    if _POLICY_TERMS.search(folded) and not _stated_in(folded, passages):
        failures.append(Failure.POLICY)
    if _echoes(folded, fold(visitor)):
        failures.append(Failure.ECHO)
    if language is not None and language_of(sentence, previous=language) != language:
        failures.append(Failure.LANGUAGE)
    return failures


def check_sentence(
    sentence: str, *, visitor: str, passages: Iterable[str], language: str | None = None
) -> Failure | None:
    """The first reason `sentence` may not be said (`sentence_failures`), or None."""
    failures = sentence_failures(sentence, visitor=visitor, passages=passages, language=language)
    return failures[0] if failures else None


_NEGATION = re.compile(
    r"(?<!\w)(?:no|not|never|none|cannot|can't|don't|doesn't|isn't|aren't|won't|nunca|ningun\w*|"
    r"nicht|kein\w*|nie|niemals|pas|jamais|aucun\w*|non|nao|nenhum\w*|mai|nessun\w*|niet|"
    r"geen|nooit)(?!\w)"
)


def _content(text: str) -> set[str]:
    return {w for w in _WORD.findall(text) if w not in STOP_WORDS}


NEGATED_WORDS = 3  # the content words after "no", "not", "never"… that it denies


def _negated(folded: str) -> set[str]:
    """The content words a denial in `folded` covers: those within NEGATED_WORDS words after
    a negation ("no data is stored": data, stored)."""
    words = _WORD.findall(folded)
    out: set[str] = set()
    for i, word in enumerate(words):
        if _NEGATION.fullmatch(word):
            out |= _content(" ".join(words[i + 1 : i + 1 + NEGATED_WORDS]))
    return out


def _stated_in(folded: str, passages: list[str]) -> bool:
    """Whether a sentence of a passage says what the sentence says: most of its content words,
    each denied in both or in neither ("no data is stored in the EU" is not in "all data is
    stored in the EU, and never leaves it"; "your data is stored in the EU" is)."""
    words = _content(folded)
    denied = _negated(folded)
    for passage in passages:
        for sentence in sentences_of(passage):
            theirs = fold(sentence)
            shared = words & _content(theirs)
            enough = len(shared) / len(words) >= POLICY_OVERLAP if words else True
            if enough and shared & denied == shared & _negated(theirs):
                return True
    return False


def _echoes(folded: str, visitor: str) -> bool:
    """Whether the sentence says ECHO_WORDS or more of the visitor's words in a row, in the
    first person (the agent speaking as the visitor)."""
    if not _FIRST_PERSON.search(folded):
        return False
    theirs = _WORD.findall(visitor)
    runs = {tuple(theirs[i : i + ECHO_WORDS]) for i in range(len(theirs) - ECHO_WORDS + 1)}
    ours = _WORD.findall(folded)
    return any(tuple(ours[i : i + ECHO_WORDS]) in runs for i in range(len(ours) - ECHO_WORDS + 1))


def reply_checked(
    text: str, *, visitor: str, passages: Iterable[str], language: str | None = None
) -> list[Checked]:
    """Each sentence of `text` with every reason it may not be said (none: it may)."""
    passages = list(passages)
    return [
        Checked(s, sentence_failures(s, visitor=visitor, passages=passages, language=language))
        for s in sentences_of(text)
    ]
