"""Turning a conversation into lead facts, each with the quote that supports it.

Two extractors read every visitor message: `rules` (well-kept libraries and patterns) and
`model` (the local LLM under a JSON schema). Both yield `Candidate`s; `merge.resolve` settles
each field by confidence and corrections. Nothing here touches the database: the Celery task
and `manage.py eval_extraction` run the same code.
"""

from __future__ import annotations

from leads.extraction.facts import FIELDS, Candidate, Turn
from leads.extraction.merge import Resolution, resolve
from leads.extraction.pipeline import Extractor, conversation_extract, message_extract

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
