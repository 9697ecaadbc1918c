"""A Site's knowledge: its documents read into passages, its FAQ and product summary kept as
passages too, so that retrieval searches one kind of thing."""

from __future__ import annotations

import hashlib
import logging
from pathlib import PurePath

import numpy as np
from django.db import transaction

import llm
from leads import dispatch
from leads.documents import document_sections, kind_of, passages_of
from leads.errors import QueueUnavailable, TextInvalid
from leads.models import FaqEntry, KnowledgeDocument, Passage, Site
from leads.services.vectors import passage_vector_store

logger = logging.getLogger(__name__)


# What a person types (the models' limits, which the admin's forms check too): the summary
# is in every reply's prompt, an answer is quoted whole.
QUESTION_MAX_CHARS = FaqEntry._meta.get_field("question").max_length or 500
TEXT_MAX_CHARS = FaqEntry._meta.get_field("answer").max_length or 5000


def _within(text: str, limit: int, what: str) -> None:
    if len(text) > limit:
        raise TextInvalid(
            f"{what} is {len(text)} characters long; keep it within {limit} (put longer "
            "material in a document, which is read into passages)."
        )


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
    knowledge_changed(site_id=site.id)
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
    _within(question, QUESTION_MAX_CHARS, "An FAQ question")
    _within(answer, TEXT_MAX_CHARS, "An FAQ answer")
    if entry is None:
        entry = FaqEntry(site=site)
    entry.question, entry.answer = question, answer
    if position is not None:
        entry.position = position
    entry.save()
    faq_passage_sync(entry=entry)
    return entry


def faq_entry_delete(*, entry: FaqEntry) -> None:
    """Remove an FAQ entry and its passage: replies no longer say it."""
    entry.delete()


def document_delete(*, document: KnowledgeDocument) -> None:
    """Remove a document and its passages: replies no longer quote it."""
    document.delete()


def site_summary_set(*, site: Site, text: str) -> Site:
    """Change the Site's product summary (`description`), which the agent may say and quote:
    it is in every reply's prompt, so it is kept short."""
    _within(text.strip(), TEXT_MAX_CHARS, "The product summary")
    site.description = text.strip()
    site.save(update_fields=["description"])
    summary_passage_sync(site=site)
    return site


def faq_passage_sync(*, entry: FaqEntry) -> None:
    """The entry's passage, as it reads now: the question as its heading, the answer its text."""
    Passage.objects.update_or_create(
        site_id=entry.site_id,
        faq=entry,
        defaults={
            "heading": entry.question,
            "text": entry.answer,
            "position": 0,
            "embedding": None,
            "embedding_model": "",
        },
    )
    knowledge_changed(site_id=entry.site_id)


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
        knowledge_changed(site_id=site.id)


EMBED_BATCH = 16


def passages_embed(*, site_id: int, embedder: llm.Embedder | None = None) -> int:
    """Embed the Site's passages that have no vector of the current embedder (new, changed,
    or made by another one); how many. Safe to run twice: what is done is skipped."""
    embedder = embedder or llm.get_embedder()
    done = 0
    while True:
        todo = list(
            Passage.objects.filter(site_id=site_id)
            .exclude(embedding_model=embedder.name)
            .order_by("id")
            .values_list("id", "heading", "text")[:EMBED_BATCH]
        )
        if not todo:
            return done
        vectors = embedder.embed([passage_text(heading, text) for _, heading, text in todo])
        for (passage_id, _, text), vector in zip(todo, vectors, strict=True):
            # Only if unchanged meanwhile: a passage edited since is embedded in the next round.
            with transaction.atomic():
                passage_vector_store(passage_id=passage_id, text=text, vector=vector)
                Passage.objects.filter(id=passage_id, text=text).update(
                    embedding=vector.astype(np.float32).tobytes(), embedding_model=embedder.name
                )
        done += len(todo)


def passage_text(heading: str, text: str) -> str:
    """What a passage is embedded as: its headings say what its text is about."""
    return f"{heading}: {text}" if heading else text


def knowledge_changed(*, site_id: int) -> None:
    """Once committed, the Site's passages not yet embedded are embedded by a worker (the
    sweep queues it again if the broker was down). Several writes in one transaction may queue
    several tasks: the first embeds what there is, the others find nothing left."""

    def queue() -> None:
        if not Passage.objects.filter(site_id=site_id, embedding__isnull=True).exists():
            return  # embedded already (manage.py ensure_demo does it in place)
        try:
            dispatch.enqueue(dispatch.KNOWLEDGE_EMBED, site_id)
        except QueueUnavailable:
            logger.warning("site %s: passages not embedded yet (no task queue)", site_id)

    transaction.on_commit(queue)


def knowledge_embed_requeue() -> int:
    """The sweep: queue the embedding of every Site with passages never embedded (their task
    lost); how many Sites. Passages of another embedder are embedded again by the next task
    of their Site, or at once by `manage.py knowledge_embed`."""
    sites = set(
        Passage.objects.filter(embedding__isnull=True).values_list("site_id", flat=True).distinct()
    )
    for site_id in sites:
        dispatch.enqueue(dispatch.KNOWLEDGE_EMBED, site_id)
    return len(sites)
