"""What the knowledge page shows of a Site: its summary, FAQ, documents, how much of it is
embedded, and the questions visitors asked that it did not answer."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from leads.models import FaqEntry, KnowledgeDocument, LeadEvent, Passage, Site

UNANSWERED_SHOWN = 20


@dataclass(frozen=True)
class Knowledge:
    site: Site
    faq: list[FaqEntry]
    documents: list[KnowledgeDocument]  # each with `passage_count`
    passages: int
    embedded: int  # passages retrieval can find by meaning (the rest: by words, until embedded)
    unanswered: list[LeadEvent]  # the latest first, with their lead


def site_knowledge(*, site: Site) -> Knowledge:
    passages = Passage.objects.filter(site=site)
    return Knowledge(
        site=site,
        faq=list(FaqEntry.objects.filter(site=site).order_by("position", "id")),
        documents=list(
            KnowledgeDocument.objects.filter(site=site).annotate(passage_count=Count("passages"))
        ),
        passages=passages.count(),
        embedded=passages.filter(embedding__isnull=False).count(),
        unanswered=list(
            LeadEvent.objects.filter(lead__site=site, kind=LeadEvent.Kind.UNANSWERED)
            .select_related("lead")
            .order_by("-created", "-id")[:UNANSWERED_SHOWN]
        ),
    )
