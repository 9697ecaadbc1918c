"""The reply to a visitor message as the product composes it: its language, what it asks of
the agent, the Site's passages about it, and the plan of what the reply states and asks
(leads/composition.py); what is kept of it for staff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

import llm
from leads import policy
from leads.composition import Plan, reply_plan
from leads.intents import Intent, classify
from leads.language import language_of
from leads.models import Evidence, LeadEvent, Message, Site
from leads.selectors.leads import ReplyFacts, reply_facts
from leads.services.history import event_record
from leads.services.leads import lead_ensure
from leads.services.retrieval import Retrieved, passages_retrieve

logger = logging.getLogger(__name__)

# How much of the conversation tells its language when a message is too short to.
LANGUAGE_CONTEXT = 3
# The passages a composing model is given, best first (and stored with the reply), of the
# CANDIDATES retrieved: enough for one in the visitor's language to be among them.
GIVEN_PASSAGES = 3
CANDIDATES = 8
STAFF_QUOTE_CHARS = 300
# When a retrieved passage is taken to answer the message, not merely to be near it: meaning
# and a shared word, or strong meaning alone. all-MiniLM-L6-v2 rates any two texts of one
# language other than English as close (a Spanish question about an app and the Spanish
# support hours: 0.54), so meaning alone must be strong; words alone (BM25's scale depends on
# the Site's corpus) never suffice. In doubt, a colleague confirms (measured on the demo).
# Words alone answer when the passage holds most of what the message asks with: the measure
# that still holds in languages the embedder reads poorly, and without an embedder at all.
ANSWER_SIMILARITY = 0.3
STRONG_SIMILARITY = 0.6
ANSWER_COVERAGE = 0.5


def answers(passage: Retrieved) -> bool:
    """Whether `passage` answers the message it was retrieved for (see ANSWER_SIMILARITY)."""
    similarity = passage.similarity or 0.0
    return (
        (passage.coverage > 0 and similarity >= ANSWER_SIMILARITY)
        or similarity >= STRONG_SIMILARITY
        or passage.coverage >= ANSWER_COVERAGE
    )


def in_language(passages: list[Retrieved], language: str) -> list[Retrieved]:
    """`passages` in the visitor's language, when any is (a reply quotes the Site's words in
    the language it speaks; else all of them: a Site that wrote only in English), the one that
    holds most of the message's words first."""
    own = [p for p in passages if language_of(p.text) == language]
    # The passage that holds most of the message's words first, then by the fused rank.
    return sorted(own or passages, key=lambda p: -p.coverage)


@dataclass(frozen=True)
class Composition:
    plan: Plan
    retrieved: list[Retrieved]
    language: str


def composition_for(*, message: Message, embedder: llm.Embedder | None = None) -> Composition:
    """How the reply to visitor `message` is composed, from the conversation as it stands."""
    conversation = message.conversation
    earlier = list(
        Message.objects.filter(
            conversation=conversation, role=Message.Role.VISITOR, id__lt=message.id
        )
        .order_by("-id")
        .values_list("text", flat=True)[:LANGUAGE_CONTEXT]
    )
    return composition_of(
        site=conversation.site,
        text=message.text,
        earlier=list(reversed(earlier)),
        known=_facts_or_none(conversation.id),
        new_facts=Evidence.objects.filter(message=message).exists(),
        embedder=embedder,
    )


def _facts_or_none(conversation_id: int) -> ReplyFacts | None:
    try:
        return reply_facts(conversation_id=conversation_id)
    except Exception:
        # A bug in reading facts must not cost the visitor their answer: composed without.
        logger.exception("could not read the lead facts of conversation %s", conversation_id)
        return None


def composition_of(
    *,
    site: Site,
    text: str,
    earlier: list[str] | None = None,
    known: ReplyFacts | None = None,
    new_facts: bool = False,
    embedder: llm.Embedder | None = None,
) -> Composition:
    """How a reply to `text` on `site` is composed: after the visitor's `earlier` messages
    (oldest first), with the lead's facts `known` (none: a new visitor); `new_facts`: the
    message gave the lead facts. Reads only: the knowledge page's "try a question" too."""
    earlier = earlier or []
    known = known or ReplyFacts(facts={}, declined=[], qualified=False)
    previous = language_of(" ".join(earlier)) if earlier else None
    language = language_of(text, previous=previous)
    retrieved = in_language(
        [
            r
            for r in passages_retrieve(
                site_id=site.id, query=text, limit=CANDIDATES, embedder=embedder
            )
            if answers(r)
        ],
        language,
    )
    intent = classify(text, new_facts=new_facts, retrieved=bool(retrieved))
    next_topic = (
        None
        if known.qualified
        else policy.next_field(
            order=site.qualification_fields, facts=known.facts, declined=known.declined
        )
    )
    plan = reply_plan(
        intent=intent,
        language=language,
        site=site.name,
        passages=[(r.passage_id, r.text) for r in retrieved],
        next_topic=next_topic,
        qualified=known.qualified,
        first=not earlier,
        email_known="email" in policy.known(known.facts),
        question=text,
    )
    return Composition(plan, retrieved, language)


def composition_sources(composition: Composition, *, model_read: bool) -> list[dict[str, object]]:
    """The passages a reply rested on, as it stores them for staff: those a composing model
    read (`model_read`), the first of them what the plan quotes; else the one it quotes."""
    given = composition.retrieved[:GIVEN_PASSAGES] if model_read else composition.retrieved[:1]
    if not model_read and not composition.plan.passage_ids:
        given = []
    return [{"id": r.passage_id, "heading": r.heading, "text": r.text} for r in given]


def staff_note_add(*, message: Message, plan: Plan) -> None:
    """Tell the team what the reply could not do itself (a question the Site's knowledge does
    not answer, a request for a person): an event on the lead quoting the message, once per
    message however often its reply is written. `ConversationErased` once it was erased: the
    conversation stays locked until the note is written, so an erasure never leaves one."""
    if not plan.staff_note:
        return
    said = " ".join(message.text.split())[:STAFF_QUOTE_CHARS]
    asked = plan.intent in (Intent.PRICING, Intent.POLICY, Intent.QUESTION)
    kind = LeadEvent.Kind.UNANSWERED if asked else LeadEvent.Kind.NOTE
    about = f"message:{message.id}"  # the event's `field`: the message it is about
    with transaction.atomic():
        lead = lead_ensure(conversation=message.conversation)
        if not LeadEvent.objects.filter(lead=lead, kind=kind, field=about).exists():
            text = f'{plan.staff_note} They wrote: "{said}"'
            event_record(lead=lead, kind=kind, field=about, text=text)
            logger.info("lead %s: a note for the team (%s)", lead.id, plan.intent)
