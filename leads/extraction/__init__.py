"""Turning a conversation into lead facts, each with the quote that supports it.

Two extractors read every visitor message: `rules` (well-kept libraries and patterns) and
`model` (the local LLM under a JSON schema). Both yield `Candidate`s; `merge.resolve` settles
each field by confidence and corrections. Nothing here touches the database: the Celery task
and `manage.py eval_extraction` run the same code.
"""

from __future__ import annotations

from typing import Any

from leads.extraction.facts import FIELDS, Candidate, Turn
from leads.extraction.merge import Resolution, resolve

_PIPELINE = ("Extractor", "conversation_extract", "message_extract")


def __getattr__(name: str) -> Any:
    # The extractors (phonenumbers, Babel, spaCy) load on first use, not with the models:
    # the web process imports leads.models and never extracts.
    if name in _PIPELINE:
        from leads.extraction import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FIELDS",
    "Candidate",
    "Extractor",
    "Resolution",
    "Turn",
    "conversation_extract",
    "message_extract",
    "resolve",
]
