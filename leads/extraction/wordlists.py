"""The extractor's word lists, kept as text files in `rules/words/`, one entry a line.

A list is plain UTF-8 text: one entry a line, surrounding spaces dropped, blank lines and lines
starting with `#` skipped. Adding a language's words is then an edit to a glossary, not to code.
The loader sits here rather than in `rules/` because `nlp` reads the honorifics and legal forms
too, and `rules/` imports `nlp`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

FOLDER = Path(__file__).parent / "rules" / "words"


@cache
def ordered(name: str) -> tuple[str, ...]:
    """The entries of word list `name`, in the file's order (a regex tries them in that order)."""
    path = FOLDER / f"{name}.txt"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in FOLDER.glob("*.txt")))
        raise FileNotFoundError(f"no word list {name!r} at {path}; known: {known}")
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


@cache
def words(name: str) -> frozenset[str]:
    """The entries of word list `name`, for membership tests."""
    return frozenset(ordered(name))


def alternation(name: str) -> str:
    """The entries of `name`, each a regex alternative, joined in order: "seats?|users?|…"."""
    return "|".join(ordered(name))


def mapping(name: str) -> dict[str, str]:
    """The `key: value` entries of `name`, in the file's order."""
    pairs: dict[str, str] = {}
    for entry in ordered(name):
        key, colon, value = entry.rpartition(":")
        if not colon or not key.strip() or not value.strip():
            raise ValueError(f"word list {name!r}: {entry!r} is not a `key: value` line")
        pairs[key.strip()] = value.strip()
    return pairs
