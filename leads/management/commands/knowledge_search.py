"""What a Site's knowledge holds for a question, as the reply path retrieves it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from leads.models import Passage, Site
from leads.services.retrieval import passages_retrieve
from leads.services.vectors import vectors_in_database


class Command(BaseCommand):
    help = (
        "Retrieve a Site's passages for a question as replies do (by meaning and by words), "
        "and print each with its scores, best first, after a line saying where the vectors "
        "are compared (pgvector in PostgreSQL, or this process)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("question")
        parser.add_argument("--site", default="demo", help="key of the Site")
        parser.add_argument("--limit", type=int, default=3, help="passages to show at most")

    def handle(self, *args: Any, question: str, site: str, limit: int, **_: Any) -> None:
        target = Site.objects.filter(key=site).first()
        if target is None:
            raise CommandError(f"no Site with key {site!r}; `manage.py ensure_demo` makes 'demo'")
        if limit < 1:
            raise CommandError("--limit must be 1 or more")
        passages = Passage.objects.filter(site=target)
        embedded = passages.exclude(embedding=None).count()
        where = "pgvector (in the database)" if vectors_in_database() else "this process"
        self.stdout.write(
            f"{site}: {passages.count()} passage(s), {embedded} embedded; vectors compared "
            f"by {where}"
        )
        found = passages_retrieve(site_id=target.id, query=question, limit=limit)
        if not found:
            self.stdout.write("nothing in the knowledge is about this")
        for rank, r in enumerate(found, start=1):
            meaning = "-" if r.similarity is None else f"{r.similarity:.3f}"
            self.stdout.write(
                f"{rank}. [{r.passage_id}] {r.heading or '(no heading)'}  cosine={meaning} "
                f"bm25={r.words:.2f} coverage={r.coverage:.2f}"
            )
            self.stdout.write(f"   {' '.join(r.text.split())[:300]}")
