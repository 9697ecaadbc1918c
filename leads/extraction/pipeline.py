"""The extraction path the Celery task and the evaluation share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from leads.extraction.facts import Candidate, Turn
from leads.extraction.merge import Resolution, resolve
from leads.extraction.rules import rules_extract
from leads.extraction.verify import supported

if TYPE_CHECKING:
    import llm

Extractor = Literal["rules", "model", "hybrid"]
EXTRACTORS: tuple[Extractor, ...] = ("rules", "model", "hybrid")


def message_extract(
    turns: list[Turn],
    index: int,
    *,
    region: str,
    extractor: Extractor = "hybrid",
    model: llm.BaseLLM | None = None,
    company_name: str = "the company",
) -> list[Candidate]:
    """The quote-checked candidates for visitor message `turns[index]`."""
    candidates: list[Candidate] = []
    if extractor in ("rules", "hybrid"):
        candidates += rules_extract(turns, index, region=region)
    if extractor in ("model", "hybrid"):
        from leads.extraction.model import model_extract

        skip = {c.field for c in candidates} if extractor == "hybrid" else set()
        candidates += model_extract(
            turns, index, region=region, model=model, company_name=company_name, skip=skip
        )
    text = turns[index].text
    return [c for c in candidates if supported(c, text, region=region)]


def conversation_extract(
    turns: list[Turn],
    *,
    region: str,
    extractor: Extractor = "hybrid",
    model: llm.BaseLLM | None = None,
) -> Resolution:
    """Every visitor message extracted in order, then resolved field by field."""
    candidates: list[Candidate] = []
    for index, turn in enumerate(turns):
        if turn.role == "visitor":
            candidates += message_extract(
                turns, index, region=region, extractor=extractor, model=model
            )
    return resolve(candidates)
