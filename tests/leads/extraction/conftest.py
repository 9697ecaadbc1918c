"""Fixtures for the extraction tests: what a conversation's visitor messages come to."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from leads.extraction.facts import Turn, Value
from leads.extraction.pipeline import conversation_extract

Facts = Callable[..., dict[str, Value]]


@pytest.fixture
def facts() -> Facts:
    """The settled values of one visitor message, optionally answering an assistant question."""

    def run(text: str, *, region: str = "US", question: str | None = None) -> dict[str, Value]:
        turns = [Turn(0, "assistant", question)] if question else []
        turns.append(Turn(len(turns), "visitor", text))
        return conversation_extract(turns, region=region, extractor="rules").values

    return run
