"""Where sentences end in text a model is still writing, so a reply stops after its last sentence.

A sentence ends at `.`, `!`, `?`, `…` (or their CJK forms), after any closing quotes or brackets,
when whitespace follows: only then is "3." known not to be "3.5", and "e.g." or "Mr." are not
taken for ends. Text that ends in such punctuation ends a sentence once the model has finished.
"""

from __future__ import annotations

import re

# The CJK full stop, exclamation and question marks end a sentence with no space after them.
_CJK = "\u3002\uff01\uff1f"
_CLOSERS = "\"'\u201d\u2019\u00bb)\\]"  # quotes and brackets that may follow the mark
_END = re.compile(f"[.!?\u2026{_CJK}]+[{_CLOSERS}]*(?=\\s)")
_CJK_END = re.compile(f"[{_CJK}]")
_OPENERS = "\"'\u201c\u2018\u00ab(["
ABBREVIATIONS = frozenset(
    [
        "e.g",
        "i.e",
        "etc",
        "vs",
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "inc",
        "ltd",
        "co",
        "corp",
        "approx",
        "no",
        "nr",
        "st",
        "jr",
        "sr",
        "dept",
        "est",
        "fig",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "z.b",
        "bzw",
        "ca",
        "ggf",
        "usw",
    ]
)


def _is_end(text: str, match: re.Match[str]) -> bool:
    if not match.group().startswith("."):
        return True
    begins = max(text.rfind(c, 0, match.start()) for c in " \t\n") + 1
    word = text[begins : match.start()].lstrip(_OPENERS).lower()
    if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return False  # "e.g.", "Mr.", an initial ("J. Smith")
    # "1. " opening a line is a list's number, not a sentence.
    return not (word.isdigit() and (begins == 0 or text[begins - 1] == "\n"))


def sentence_ends(text: str, *, final: bool = False) -> list[int]:
    """Offsets just past each finished sentence of `text` (its closing punctuation and quotes).

    With `final`, the text is complete, so punctuation at its very end closes a sentence too.
    """
    probe = text + " " if final else text
    ends = [m.end() for m in _END.finditer(probe) if _is_end(probe, m)]
    ends += [m.end() for m in _CJK_END.finditer(text)]
    return sorted(set(e for e in ends if e <= len(text)))


class SentenceCut:
    """Follows a stream of text and cuts it right after its `limit`-th sentence.

    `prefix` is the text before the stream (a reply that another model began): its sentences
    count towards the limit, and the stream's first chunk may end its last one.
    """

    def __init__(self, limit: int | None, prefix: str = "") -> None:
        self.limit = limit
        self.text = prefix
        self.done = limit is not None and len(sentence_ends(prefix)) >= limit

    def feed(self, chunk: str) -> str:
        """The part of `chunk` within the limit; after it, `done` is True and the rest dropped."""
        if self.limit is None or self.done:
            return "" if self.done else chunk
        start = len(self.text)
        self.text += chunk
        ends = sentence_ends(self.text)
        if len(ends) < self.limit:
            return chunk
        cut = ends[self.limit - 1]
        self.done, self.text = True, self.text[:cut]
        return self.text[start:] if cut > start else ""
