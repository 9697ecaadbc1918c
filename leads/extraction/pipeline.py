"""The extraction path the services, the evaluation and the benchmarks share: the rules pass,
the model pass, and both in the order the configured mode runs them."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

import llm
from leads.extraction.facts import Candidate, Turn
from leads.extraction.merge import Resolution, resolve
from leads.extraction.model import model_extract
from leads.extraction.rules import rules_extract
from leads.extraction.verify import supported

# EXTRACTION_EXTRACTOR, eval_extraction's --extractor: which passes read a message.
Mode = Literal["rules", "model", "hybrid"]
MODES: tuple[Mode, ...] = ("rules", "model", "hybrid")
Pass = Literal["rules", "model"]
# The passes of each mode, in order: in the hybrid the model fills the rules' gaps.
PASSES: dict[Mode, tuple[Pass, ...]] = {
    "rules": ("rules",),
    "model": ("model",),
    "hybrid": ("rules", "model"),
}


def message_extract(
    turns: list[Turn],
    index: int,
    *,
    region: str,
    extractor: Mode = "hybrid",
    model: llm.BaseLLM | None = None,
    company_name: str = "the company",
) -> list[Candidate]:
    """The quote-checked candidates for visitor message `turns[index]`."""
    candidates: list[Candidate] = []
    for kind in PASSES[extractor]:
        if kind == "rules":
            candidates += rules_read(turns, index, region=region)
        else:
            # The model is not asked for what the rules just read from this message.
            skip = {c.field for c in candidates}
            candidates += model_read(
                turns, index, region=region, model=model, company_name=company_name, skip=skip
            )
    return candidates


def rules_read(turns: list[Turn], index: int, *, region: str) -> list[Candidate]:
    """The rules pass alone: quote-checked candidates for `turns[index]`, in milliseconds."""
    return _checked(rules_extract(turns, index, region=region), turns[index].text, region)


def model_read(
    turns: list[Turn],
    index: int,
    *,
    region: str,
    model: llm.BaseLLM | None = None,
    company_name: str = "the company",
    skip: Collection[str] = (),
) -> list[Candidate]:
    """The model pass alone, not asked for the fields in `skip`; quote-checked candidates."""
    candidates = model_extract(
        turns, index, region=region, model=model, company_name=company_name, skip=skip
    )
    return _checked(candidates, turns[index].text, region)


def _checked(candidates: list[Candidate], text: str, region: str) -> list[Candidate]:
    return [c for c in candidates if supported(c, text, region=region)]


def conversation_extract(
    turns: list[Turn],
    *,
    region: str,
    extractor: Mode = "hybrid",
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
