"""The reply to a visitor message as the product composes it: its language, what it asks of
the agent, the Site's passages about it, and the plan of what the reply states and asks
(leads/composition.py); and the check a model's acknowledgement must pass to be said.

Not yet the reply path's: `replies.py` still has the model write the whole reply. This is
what it will call, tested on its own first (issue 17).
"""

from __future__ import annotations

from dataclasses import dataclass

import llm
from leads import policy
from leads.claims import reply_checked, sentences_of
from leads.composition import Plan, reply_plan
from leads.intents import classify
from leads.language import language_of
from leads.models import Evidence, Message
from leads.selectors.leads import reply_facts
from leads.services.retrieval import Retrieved, passages_retrieve

# How much of the conversation tells its language when a message is too short to.
LANGUAGE_CONTEXT = 3
ACK_MAX_WORDS = 20
# When a retrieved passage is taken to answer the message, not merely to be near it: meaning
# and a shared word, or strong meaning alone. all-MiniLM-L6-v2 rates any two texts of one
# language other than English as close (a Spanish question about an app and the Spanish
# support hours: 0.54), so meaning alone must be strong; words alone (BM25's scale depends on
# the Site's corpus) never suffice. In doubt, a colleague confirms (measured on the demo).
ANSWER_SIMILARITY = 0.3
STRONG_SIMILARITY = 0.6


def answers(passage: Retrieved) -> bool:
    """Whether `passage` answers the message it was retrieved for (see ANSWER_SIMILARITY)."""
    similarity = passage.similarity or 0.0
    return (passage.words > 0 and similarity >= ANSWER_SIMILARITY) or (
        similarity >= STRONG_SIMILARITY
    )


@dataclass(frozen=True)
class Composition:
    plan: Plan
    retrieved: list[Retrieved]
    language: str


def composition_for(*, message: Message, embedder: llm.Embedder | None = None) -> Composition:
    """How the reply to visitor `message` is composed, from the conversation as it stands."""
    conversation = message.conversation
    site = conversation.site
    earlier = list(
        Message.objects.filter(
            conversation=conversation, role=Message.Role.VISITOR, id__lt=message.id
        )
        .order_by("-id")
        .values_list("text", flat=True)[:LANGUAGE_CONTEXT]
    )
    previous = language_of(" ".join(reversed(earlier))) if earlier else None
    language = language_of(message.text, previous=previous)
    retrieved = [
        r
        for r in passages_retrieve(site_id=site.id, query=message.text, embedder=embedder)
        if answers(r)
    ]
    known = reply_facts(conversation_id=conversation.id)
    intent = classify(
        message.text,
        new_facts=Evidence.objects.filter(message=message).exists(),
        retrieved=bool(retrieved),
    )
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
    )
    return Composition(plan, retrieved, language)


def ack_checked(text: str, *, composition: Composition, visitor: str) -> str:
    """A model's acknowledgement if it may be said: one sentence of at most ACK_MAX_WORDS words,
    asking nothing (the plan asks), passing every check of the reply guard; else ""."""
    sentences = sentences_of(text.strip())
    if len(sentences) != 1:
        return ""
    ack = sentences[0]
    if ack.endswith("?") or len(ack.split()) > ACK_MAX_WORDS or ack[-1] not in ".!":
        return ""
    checked = reply_checked(
        ack,
        visitor=visitor,
        passages=[r.text for r in composition.retrieved],
        language=composition.language,
    )
    return ack if all(not c.failures for c in checked) else ""
