"""Runs of capitalised words: the shape of a person's or a company's name in running text.

"Daan de Vries", "Kessler & Sons", "Stefanie Huber von der Alpenblick GmbH": where a name
begins is the caller's knowledge ("my name is …", "at …"); where it ends is read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from leads.extraction import wordlists

# Capitalised words that begin no name or company: "Hi", "Thanks", "Frau", "Email".
NOT_NAMES = wordlists.words("not_names")
PARTICLES = wordlists.words("name_particles")
ORG_CONNECTORS = wordlists.words("company_connectors")
LEGAL_FORMS = wordlists.words("legal_forms")
# Legal forms written as abbreviations keep their full stop: "Co.", "Pvt. Ltd.", "inc.".
ABBREVIATED = wordlists.words("abbreviated_legal_forms")
TOKEN = re.compile(r"&|\(?[^\s,;:!?()\"<>]+\)?")


@dataclass(frozen=True)
class Run:
    words: list[str]
    start: int
    end: int
    stopped_at_punct: bool  # the run ended at a comma, a full stop or the like

    @property
    def text(self) -> str:
        return " ".join(self.words)


def is_cap(word: str) -> bool:
    """Whether `word` starts with a capital: "Acme", "(Pty)", "'Ohana"."""
    word = word.lstrip("(")
    return word[:1].isupper() or (word[:1] in "'’" and word[1:2].isupper())


def run_at(text: str, pos: int, kind: Literal["name", "org"], max_words: int = 6) -> Run | None:
    """The capitalised words (a name or a company) starting at `pos`."""
    words: list[str] = []
    start = end = -1
    punct = False
    connectors = PARTICLES if kind == "name" else ORG_CONNECTORS
    for match in TOKEN.finditer(text, pos):
        word, w_start = match.group(), match.start()
        if text[end if end >= 0 else pos : w_start].strip():
            break  # punctuation came in between
        legal = kind == "org" and bool(words) and word.strip("().").casefold() in LEGAL_FORMS
        keeps_dot = legal and (
            "." in word.rstrip(".") or word.strip("().").casefold() in ABBREVIATED
        )
        bare = word if keeps_dot or "." in word.rstrip(".") else word.rstrip(".")
        if not bare:
            break
        if kind == "name" and words and bare.casefold() in PARTICLES:
            # "Daan de Vries", but "Stefanie Huber von der Alpenblick GmbH" is a name and a
            # company: a particle follows a first name only, and one surname follows it.
            if sum(is_cap(w) for w in words) >= 2:
                break
        elif (
            kind == "name"
            and words
            and words[-1].casefold() in PARTICLES
            and any(w.casefold() in PARTICLES for w in words[:-1]) is False
            and is_cap(bare)
        ):
            words.append(bare)
            end = w_start + len(bare)
            break
        if (
            legal
            or is_cap(bare)
            or (kind != "name" and bare.isupper() and len(bare) > 1)
            or (bare.casefold() in connectors and words)
        ):
            words.append(bare)
        else:
            break
        if start < 0:
            start = w_start
        end = w_start + len(bare)
        if len([w for w in words if is_cap(w)]) > max_words:
            return None
        nxt = text[match.end() : match.end() + 1]
        if (word.endswith(".") and bare != word) or nxt in ",;:!?)":
            punct = True
            break
        if legal:
            # A legal form ends the name, unless another follows: "Pvt. Ltd.", "(Pty) Ltd".
            rest = text[end:]
            following = TOKEN.match(text, end + len(rest) - len(rest.lstrip()))
            if not following or following.group().strip("().,").casefold() not in LEGAL_FORMS:
                punct = word.endswith(".")
                break
    while words and words[-1].casefold() in connectors:
        words.pop()  # "Acme and" is "Acme"
    if not words:
        return None
    end = start + len(text[start:end].rsplit(words[-1], 1)[0]) + len(words[-1])
    return Run(words, start, end, punct)
