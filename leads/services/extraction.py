"""Reading lead facts out of a visitor's message, and settling the lead on them.

Two passes read each message (leads/extraction/). The rules pass takes milliseconds: it runs
when the message is stored, so the reply that follows already knows what the message said. The
model pass takes seconds: the extraction worker runs it, asking the model only for what the
rules did not find. `EXTRACTION_EXTRACTOR` picks the passes: rules, model, or both (hybrid).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction

from leads import policy
from leads.extraction.facts import Candidate, Turn
from leads.extraction.pipeline import Extractor, model_read, rules_read
from leads.models import Lead, Message
from leads.selectors.leads import lead_facts
from leads.services.facts import evidence_store, facts_settle
from leads.services.leads import lead_ensure
from leads.services.qualification import lead_rescore

if TYPE_CHECKING:
    import llm

logger = logging.getLogger(__name__)

Pass = Literal["rules", "model"]
PASSES: dict[Extractor, tuple[Pass, ...]] = {
    "rules": ("rules",),
    "model": ("model",),
    "hybrid": ("rules", "model"),
}


def receive_passes() -> tuple[Pass, ...]:
    """The passes run as a message is stored: the rules, unless extraction is by model alone."""
    return tuple(p for p in PASSES[_configured()] if p == "rules")


def worker_passes() -> tuple[Pass, ...]:
    """The passes the extraction worker runs for a message: the model's, if configured."""
    return tuple(p for p in PASSES[_configured()] if p == "model")


def _configured() -> Extractor:
    extractor: Extractor = settings.EXTRACTION_EXTRACTOR
    return extractor


def message_received_read(*, message: Message) -> Lead:
    """Inside the transaction that stores visitor message `message`: ensure its lead, and read
    the message with the rules. A failure of the rules is logged and costs the facts of this
    message, never the message: it is rolled back alone."""
    lead = lead_ensure(conversation=message.conversation)
    passes = receive_passes()
    if passes:
        try:
            with transaction.atomic():
                lead = _read(message=message, passes=passes, model=None)
        except Exception:
            logger.exception("reading the facts of message %s failed", message.id)
    return lead


def message_facts_extract(
    *, message_id: int, extractor: Extractor | None = None, model: llm.BaseLLM | None = None
) -> Lead | None:
    """Read visitor message `message_id` with `extractor` (default: the worker's passes) and
    settle its lead; safe to run twice.

    Each pass replaces what it read from the message before. The model pass is not asked for
    fields the rules read from this message. The lead's facts, score and status are then
    recomputed from all its evidence.
    """
    message = Message.objects.select_related("conversation__site").filter(id=message_id).first()
    if message is None or message.role != Message.Role.VISITOR:
        return None
    passes = PASSES[extractor] if extractor is not None else worker_passes()
    try:
        with transaction.atomic():
            return _read(message=message, passes=passes, model=model)
    except (ObjectDoesNotExist, IntegrityError):
        # The conversation was erased while the model read it (a visitor's data deleted).
        logger.warning("conversation of message %s is gone; its facts are dropped", message_id)
        return None


def _read(*, message: Message, passes: tuple[Pass, ...], model: llm.BaseLLM | None) -> Lead:
    site = message.conversation.site
    previous = _previous(message)
    turns = _turns([m for m in (previous, message) if m is not None])
    index = len(turns) - 1
    read: dict[Pass, list[Candidate]] = {}
    for kind in passes:
        if kind == "rules":
            read[kind] = rules_read(turns, index, region=site.default_region)
        else:
            found = message.evidence.filter(extractor="rules").values_list("field")
            read[kind] = model_read(
                turns,
                index,
                region=site.default_region,
                model=model,
                company_name=site.name,
                skip={field for (field,) in found} | {c.field for c in read.get("rules", [])},
            )
    return _lead_update(message=message, previous=previous, read=read)


def _lead_update(
    *, message: Message, previous: Message | None, read: dict[Pass, list[Candidate]]
) -> Lead:
    # The field the assistant asked for just before: a refusal in this message declines it.
    asked = previous.asked_field if previous and previous.role == Message.Role.ASSISTANT else ""
    lead = lead_ensure(conversation=message.conversation)
    lead = Lead.objects.select_for_update().get(id=lead.id)
    for kind, candidates in read.items():
        evidence_store(lead=lead, message=message, extractor=kind, candidates=candidates)
    facts_settle(lead=lead)
    if asked and policy.declines(message.text) and not policy.answered(asked, lead_facts(lead)):
        lead.declined_fields = sorted({*lead.declined_fields, asked})
        lead.save(update_fields=["declined_fields", "updated"])
    lead_rescore(lead=lead)
    return lead


def _turns(messages: list[Message]) -> list[Turn]:
    # A rep's question is read like the assistant's: the visitor's answer may follow it.
    return [
        Turn(
            id=m.id, role="visitor" if m.role == Message.Role.VISITOR else "assistant", text=m.text
        )
        for m in messages
    ]


def _previous(message: Message) -> Message | None:
    """The message before `message`: the question it may answer, all the extractors read of
    the conversation besides the message itself."""
    return (
        message.conversation.messages.filter(id__lt=message.id)
        .exclude(role=Message.Role.ASSISTANT, status=Message.Status.FAILED)
        .order_by("-id")
        .first()
    )
