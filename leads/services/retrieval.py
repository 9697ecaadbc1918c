"""The passages of a Site's knowledge a visitor's message is about: found by meaning (the
embedder's vectors, cosine) and by words (BM25, rank_bm25), the two rankings fused by
reciprocal rank (Cormack et al., 2009), so that either one finding a passage is enough and both
finding it ranks it first. Words carry what a small English embedder misses (names, numbers,
other languages); meaning carries paraphrases.

Vectors are compared by PostgreSQL where it has pgvector (leads/services/vectors.py); elsewhere
a Site's vectors are read for each message (a few hundred rows of 1.5 KB) and compared in one
matrix product. The words are read and ranked here either way (BM25 needs every passage).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi

import llm
from leads.language import STOP_WORDS, folded
from leads.models import Passage
from leads.services.knowledge import passage_text
from leads.services.vectors import (
    database_vector_missing,
    vector_similarities,
    vectors_in_database,
)

logger = logging.getLogger(__name__)

FUSION_K = 60  # reciprocal rank fusion's constant, as its authors set it
# Below this cosine a passage is not about the message (all-MiniLM-L6-v2: unrelated sentences
# score about 0 to 0.2, one answering another 0.4 and up).
MIN_SIMILARITY = 0.3
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Retrieved:
    passage_id: int
    heading: str
    text: str
    similarity: float | None  # cosine with the message (None: not embedded by this embedder)
    words: float  # BM25 score (0 or below for words most passages share, or none)
    score: float  # the fused rank score: what they are ordered by
    coverage: float = 0.0  # the share of the message's words (less stop words) it contains


def words_of(text: str) -> list[str]:
    """Lower-cased words without accents ("Español" and "espanol" are one word), without the
    words every text has."""
    return [
        w
        for w in _WORD.findall(folded(text))
        if (len(w) > 1 or w.isdigit()) and w not in STOP_WORDS
    ]


def passages_retrieve(
    *, site_id: int, query: str, limit: int = 3, embedder: llm.Embedder | None = None
) -> list[Retrieved]:
    """The Site's passages for `query`, best first, at most `limit`; none when nothing of
    them shares a word or a meaning with it. Without an embedder (or vectors), by words."""
    rows = list(
        Passage.objects.filter(site_id=site_id).order_by("id").values_list("id", "heading", "text")
    )
    if not rows or not query.strip():
        return []
    documents = [words_of(passage_text(heading, text)) for _, heading, text in rows]
    asked = set(words_of(query))
    coverage = np.array([len(asked & set(d)) / len(asked) if asked else 0.0 for d in documents])
    lexical = BM25Okapi(documents).get_scores(list(asked)) if any(documents) else None
    words = np.zeros(len(rows)) if lexical is None else np.asarray(lexical, dtype=np.float64)
    similarity = _similarities(site_id, [row[0] for row in rows], query, embedder)

    fused = np.zeros(len(rows))
    meant = np.nan_to_num(similarity, nan=-1.0) >= MIN_SIMILARITY
    # By words: the passages that share one, by BM25 (whose IDF is zero or below for a word
    # in half a small Site's passages or more: then by how many of the words they hold).
    by_words = np.lexsort((-coverage, -words))
    by_meaning = np.argsort(-np.nan_to_num(similarity, nan=-np.inf))
    for ranking, found in ((by_words, coverage > 0), (by_meaning, meant)):
        ranked = [i for i in ranking if found[i]]
        for rank, i in enumerate(ranked):
            fused[i] += 1.0 / (FUSION_K + rank + 1)
    order = [i for i in np.argsort(-fused, kind="stable") if fused[i] > 0][:limit]
    return [
        Retrieved(
            passage_id=rows[i][0],
            heading=rows[i][1],
            text=rows[i][2],
            similarity=None if np.isnan(similarity[i]) else float(similarity[i]),
            words=float(words[i]),
            score=float(fused[i]),
            coverage=float(coverage[i]),
        )
        for i in order
    ]


def _similarities(
    site_id: int, ids: list[int], query: str, embedder: llm.Embedder | None
) -> np.ndarray:
    """Each passage's cosine with `query` (in the order of `ids`), NaN where it has no vector
    of this embedder."""
    out = np.full(len(ids), np.nan)
    try:
        embedder = embedder or llm.get_embedder()
    except llm.LLMError as exc:
        logger.warning("knowledge retrieved by words alone: %s", exc)
        return out
    embedded = Passage.objects.filter(site_id=site_id, embedding_model=embedder.name)
    # The vectors this process compares (all of them, without pgvector).
    read = list(
        database_vector_missing(embedded.exclude(embedding=None)).values_list("id", "embedding")
    )
    if not read and not (vectors_in_database() and embedded.exists()):
        return out  # nothing to compare: the question is not embedded
    try:
        asked = embedder.embed([query])[0]
    except llm.LLMError as exc:  # a reply by words beats no reply
        logger.warning("knowledge retrieved by words alone: %s", exc)
        return out
    found = vector_similarities(site_id=site_id, embedder=embedder.name, query=asked)
    if read:
        matrix = np.stack([np.frombuffer(bytes(blob or b""), dtype=np.float32) for _, blob in read])
        found |= dict(zip([i for i, _ in read], (matrix @ asked).tolist(), strict=True))
    position = {passage_id: i for i, passage_id in enumerate(ids)}
    for passage_id, similarity in found.items():
        if passage_id in position:
            out[position[passage_id]] = similarity
    return out
