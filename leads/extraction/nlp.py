"""spaCy for people and organisations: a trained English pipeline when installed, patterns else.

`en_core_web_sm` (a download from spaCy's releases, not on PyPI: see docs/configuration.md)
recognises names it has never seen in any position. Without it, a blank multilingual pipeline
with an entity ruler finds people addressed by an honorific ("Dr. Anna Berg", "Frau Weiß") and
companies by their legal form ("Acme GmbH", "Polderpost B.V."). The rules use these entities
only where the sentence says they belong to the visitor.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from leads.extraction import wordlists

if TYPE_CHECKING:
    from spacy.pipeline import EntityRuler

logger = logging.getLogger(__name__)

TRAINED = "en_core_web_sm"
# Patterns find people by an honorific and companies by a legal form, as written.
_HONORIFICS = wordlists.ordered("honorifics")
_LEGAL_FORMS = wordlists.ordered("entity_legal_forms")


@dataclass(frozen=True)
class Entity:
    label: str  # PERSON, ORG, MONEY, DATE
    text: str
    start: int
    end: int


def _patterns() -> list[dict[str, Any]]:
    title_case = {"IS_TITLE": True}
    patterns: list[dict[str, Any]] = []
    for honorific in _HONORIFICS:
        for n in (1, 2, 3):
            patterns.append(
                {
                    "label": "PERSON",
                    "pattern": [{"TEXT": honorific}, {"TEXT": ".", "OP": "?"}] + [title_case] * n,
                }
            )
    for form in _LEGAL_FORMS:
        for n in (1, 2, 3):
            company = [{"IS_TITLE": True}] + [{"IS_TITLE": True}] * (n - 1)
            patterns.append({"label": "ORG", "pattern": [*company, {"TEXT": form}]})
            patterns.append(
                {"label": "ORG", "pattern": [*company, {"TEXT": "&"}, title_case, {"TEXT": form}]}
            )
    return patterns


@cache
def pipeline() -> Any:
    """The spaCy pipeline: `SALESBOT_SPACY_MODEL` (default en_core_web_sm), or the patterns."""
    import spacy

    name = os.environ.get("SALESBOT_SPACY_MODEL", TRAINED)
    if name != "blank":
        try:
            return spacy.load(name, exclude=["lemmatizer", "parser"])
        except OSError:
            logger.info("spaCy model %s is not installed: using patterns for names", name)
    nlp = spacy.blank("xx")
    # add_pipe is typed as any pipe component; "entity_ruler" makes an EntityRuler.
    ruler = cast("EntityRuler", nlp.add_pipe("entity_ruler", config={"overwrite_ents": True}))
    ruler.add_patterns(_patterns())
    return nlp


def trained() -> bool:
    """Whether a trained pipeline (not the patterns) is in use."""
    return bool(pipeline().pipe_names and "ner" in pipeline().pipe_names)


def entities(text: str) -> list[Entity]:
    """The people, organisations, amounts and dates spaCy finds in `text`."""
    doc = pipeline()(text)
    return [
        Entity(ent.label_, ent.text, ent.start_char, ent.end_char)
        for ent in doc.ents
        if ent.label_ in ("PERSON", "ORG", "MONEY", "DATE")
    ]
