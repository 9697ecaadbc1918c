"""Passages' vectors in the database, where it is PostgreSQL with pgvector: compared there
(cosine distance, `<=>`), so that retrieval reads no vectors. Migration 0020 enables the
extension and adds the column where the server offers it; elsewhere (SQLite, PostgreSQL
without pgvector) retrieval compares the vectors it reads (leads/services/retrieval.py).

`Passage.embedding` stays what a vector is: the column here is its copy in pgvector's type,
written with it, in one transaction. The column is untyped (`vector`, any dimension): a Site's
passages are compared in full, filtered by Site and embedder, which the Site's own index
serves; an approximate (HNSW) index, across Sites, would filter after the search.
"""

from __future__ import annotations

import numpy as np
from django.db import connection
from django.db.models import QuerySet

from leads.models import Passage

COLUMN = "vector"  # leads_passage.vector, added by migration 0020 where pgvector is
_enabled: dict[tuple[object, ...], bool] = {}


def vectors_in_database() -> bool:
    """Whether passages' vectors are kept and compared in this database (pgvector)."""
    if connection.vendor != "postgresql":
        return False
    key = tuple(connection.settings_dict.get(k) for k in ("NAME", "HOST", "PORT"))
    if key not in _enabled:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_attribute WHERE attrelid = 'leads_passage'::regclass"
                " AND attname = %s AND NOT attisdropped",
                [COLUMN],
            )
            _enabled[key] = cursor.fetchone() is not None
    return _enabled[key]


def vector_text(vector: np.ndarray) -> str:
    """pgvector's text form of `vector`: `[0.1,0.2,...]`."""
    return "[" + ",".join(f"{x:.8g}" for x in vector.astype(np.float32)) + "]"


def passage_vector_store(*, passage_id: int, text: str, vector: np.ndarray) -> None:
    """Set the passage's database vector, if its text is still `text` (nothing without
    pgvector). Called inside the transaction that stores its `embedding`."""
    if vectors_in_database():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE leads_passage SET {COLUMN} = %s::vector WHERE id = %s AND text = %s",
                [vector_text(vector), passage_id, text],
            )


def vector_similarities(*, site_id: int, embedder: str, query: np.ndarray) -> dict[int, float]:
    """The cosine of `query` with each of the Site's passages that `embedder` embedded and
    the database holds the vector of: computed by PostgreSQL ({} without pgvector)."""
    if not vectors_in_database():
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, 1 - ({COLUMN} <=> %s::vector) FROM leads_passage"
            f" WHERE site_id = %s AND embedding_model = %s AND {COLUMN} IS NOT NULL"
            f" AND vector_dims({COLUMN}) = %s",
            [vector_text(query), site_id, embedder, int(query.shape[0])],
        )
        return {int(i): float(similarity) for i, similarity in cursor.fetchall()}


def database_vector_missing(passages: QuerySet[Passage]) -> QuerySet[Passage]:
    """Those of `passages` whose vector the database does not hold (all, without pgvector)."""
    if not vectors_in_database():
        return passages
    return passages.extra(where=[f"leads_passage.{COLUMN} IS NULL"])  # a column no model has
