"""Reading lead facts out of a visitor's message, and settling the lead on them.

Two passes read each message (leads/extraction/). The rules pass takes milliseconds: it reads a
message as it is stored, so the reply that follows already knows what the message said. The
model pass takes seconds: the extraction worker runs it, asking the model only for what the
rules did not find. `EXTRACTION_EXTRACTOR` picks the passes: rules, model, or both (hybrid).

Reading happens outside any transaction; only storing what was read takes one. (On SQLite a
write transaction holds the database's one write lock: a model reading inside it would stall
every other writer, the visitor's next message included.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

import llm
from leads import policy
from leads.errors import ConversationErased
from leads.extraction.facts import Candidate, Turn
from leads.extraction.pipeline import PASSES, Mode, Pass, model_read, rules_read
from leads.models import Conversation, Lead, Message, Site
from leads.selectors.conversations import message_before
from leads.selectors.leads import lead_facts
from leads.services.facts import evidence_store, facts_settle
from leads.services.leads import lead_ensure
from leads.services.priority import background_run
from leads.services.qualification import lead_rescore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reading:
    """What the passes read from one visitor message, and the message before it (the question
    it may answer), ready to be stored."""

    previous: Message | None
    found: dict[Pass, list[Candidate]]


def receive_passes() -> tuple[Pass, ...]:
    """The passes run as a message is stored: the rules, unless extraction is by model alone."""
    return tuple(p for p in PASSES[_mode()] if p == "rules")


def worker_passes() -> tuple[Pass, ...]:
    """The passes the extraction worker runs for a message: the model's, if configured."""
    return tuple(p for p in PASSES[_mode()] if p == "model")


def _mode() -> Mode:
    mode: Mode = settings.EXTRACTION_EXTRACTOR
    return mode


def receive_warm_up() -> None:
    """Load what the rules pass needs (spaCy's pipeline: seconds, once per process) before the
    first visitor's message waits for it. The web process calls this as it starts."""
    if receive_passes():
        rules_read([Turn(id=0, role="visitor", text="Hello, I'm Ana Torres.")], 0, region="US")


def message_arriving_read(*, conversation: Conversation, text: str) -> Reading | None:
    """The rules' reading of a visitor message about to be stored (None: no rules pass is
    configured, or it failed — logged: a bug in the rules costs the message's facts, never the
    message). Called before the transaction that stores it."""
    if not receive_passes():
        return None
    try:
        # Read afresh: the socket's copy of the site may be older than the admin's last edit.
        site = Site.objects.get(id=conversation.site_id)
        previous = message_before(conversation_id=conversation.id)
        turns = [*_turns([previous] if previous else []), Turn(id=0, role="visitor", text=text)]
        found = rules_read(turns, len(turns) - 1, region=site.default_region)
    except Exception:
        logger.exception("the rules could not read a message of conversation %s", conversation.id)
        return None
    return Reading(previous=previous, found={"rules": found})


def message_received_store(*, message: Message, reading: Reading | None) -> Lead:
    """Inside the transaction that stores visitor message `message`: ensure its lead, and store
    what the rules read of it. A failure to store the reading is rolled back alone, and
    logged."""
    lead = lead_ensure(conversation=message.conversation)
    if reading is not None:
        try:
            with transaction.atomic():
                lead = _lead_update(message=message, reading=reading)
        except Exception:
            logger.exception("storing the facts of message %s failed", message.id)
    return lead


def message_facts_extract(
    *, message_id: int, extractor: Mode | None = None, model: llm.BaseLLM | None = None
) -> Lead | None:
    """Read visitor message `message_id` with `extractor`'s passes (default: the worker's) and
    settle its lead; safe to run twice.

    Each pass replaces what it read from the message before. The model pass is not asked for
    fields the rules read from this message. The lead's facts, score and status are then
    recomputed from all its evidence.
    """
    message = Message.objects.select_related("conversation__site").filter(id=message_id).first()
    if message is None or message.role != Message.Role.VISITOR:
        return None
    passes = PASSES[extractor] if extractor is not None else worker_passes()
    Message.objects.filter(id=message_id).update(extraction_attempts=F("extraction_attempts") + 1)
    if "model" in passes:  # the model's work gives way to replies
        reading = background_run(
            lambda: _read(message=message, passes=passes, model=model),
            what=f"extraction of message {message_id}",
        )
    else:
        reading = _read(message=message, passes=passes, model=model)
    try:
        with transaction.atomic():
            lead = _lead_update(message=message, reading=reading)
            Message.objects.filter(id=message_id).update(extracted_at=timezone.now())
            return lead
    except (ObjectDoesNotExist, IntegrityError, ConversationErased):
        # The conversation was deleted or erased while the model read it.
        logger.warning("conversation of message %s was erased; its facts are dropped", message_id)
        return None


def _read(*, message: Message, passes: tuple[Pass, ...], model: llm.BaseLLM | None) -> Reading:
    site = message.conversation.site
    previous = message_before(conversation_id=message.conversation_id, before_id=message.id)
    turns = _turns([m for m in (previous, message) if m is not None])
    index = len(turns) - 1
    found: dict[Pass, list[Candidate]] = {}
    for kind in passes:
        if kind == "rules":
            found[kind] = rules_read(turns, index, region=site.default_region)
        else:
            stored = message.evidence.filter(extractor="rules").values_list("field", flat=True)
            with llm.call_context(role="extraction", conversation_id=message.conversation_id):
                found[kind] = model_read(
                    turns,
                    index,
                    region=site.default_region,
                    model=model,
                    company_name=site.name,
                    skip={*stored, *(c.field for c in found.get("rules", []))},
                )
    return Reading(previous=previous, found=found)


def _lead_update(*, message: Message, reading: Reading) -> Lead:
    # The field the assistant asked for just before: a refusal in this message declines it.
    previous = reading.previous
    asked = previous.asked_field if previous and previous.role == Message.Role.ASSISTANT else ""
    lead = lead_ensure(conversation=message.conversation)
    lead = Lead.objects.select_for_update().get(id=lead.id)
    for kind, candidates in reading.found.items():
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
