"""A Site's knowledge: its documents read into passages, its FAQ and product summary kept as
passages too, so that retrieval searches one kind of thing."""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from django.db import transaction

from leads.documents import document_sections, kind_of, passages_of
from leads.errors import TextInvalid
from leads.models import FaqEntry, KnowledgeDocument, Passage, Site


@transaction.atomic
def document_ingest(*, site: Site, name: str, data: bytes, title: str = "") -> KnowledgeDocument:
    """Read the file `name` (its bytes `data`) into `site`'s passages; a document of the same
    name is replaced. `DocumentInvalid` when it cannot be read: nothing is changed then."""
    kind = kind_of(name, data)
    sections = document_sections(data, kind, name=name)
    passages = passages_of(sections)
    document = KnowledgeDocument.objects.filter(site=site, source=name).first()
    if document is None:
        document = KnowledgeDocument(site=site, source=name)
    first_heading = next((s.headings[0] for s in sections if s.headings), "")
    document.title = (title or first_heading or PurePath(name).stem)[:200]
    document.kind = kind.value
    document.digest = hashlib.sha256(data).hexdigest()
    document.save()
    document.passages.all().delete()
    Passage.objects.bulk_create(
        Passage(site=site, document=document, position=i, heading=p.heading[:500], text=p.text)
        for i, p in enumerate(passages)
    )
    return document


@transaction.atomic
def faq_entry_save(
    *,
    site: Site,
    question: str,
    answer: str,
    entry: FaqEntry | None = None,
    position: int | None = None,
) -> FaqEntry:
    """Add an FAQ entry to `site` (or change `entry`), with its passage."""
    question, answer = " ".join(question.split()), answer.strip()
    if not question or not answer:
        raise TextInvalid("An FAQ entry needs a question and its answer.")
    if entry is None:
        entry = FaqEntry(site=site)
    entry.question, entry.answer = question[:500], answer
    if position is not None:
        entry.position = position
    entry.save()
    faq_passage_sync(entry=entry)
    return entry


def faq_passage_sync(*, entry: FaqEntry) -> None:
    """The entry's passage, as it reads now: the question as its heading, the answer its text."""
    Passage.objects.update_or_create(
        site_id=entry.site_id,
        faq=entry,
        defaults={"heading": entry.question, "text": entry.answer, "position": 0},
    )


def summary_passage_sync(*, site: Site) -> None:
    """The Site's product summary (`Site.description`) as a passage of its own (none: none)."""
    text = site.description.strip()
    summary = Passage.objects.filter(site=site, document__isnull=True, faq__isnull=True)
    if not text:
        summary.delete()
        return
    if not summary.filter(text=text, heading=site.name).exists():
        summary.delete()
        Passage.objects.create(site=site, heading=site.name[:500], text=text)
