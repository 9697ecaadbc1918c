"""The canary: a candidate model replayed against recent recorded conversations, side by side
with the serving model, before anyone promotes it (`manage.py llm_canary`).

Each recent reply is composed again with each model as the reply path would compose it now
(the conversation before it, the lead's facts and the Site's knowledge as they stand; the
model writes what its capability allows, through the same gate): how close each reply is to
the one the visitor got (cosine similarity of local embeddings, else of characters),
time to first token, speed and errors. Each conversation's visitor messages are extracted
again by both (the model pass alone) and scored against the lead's settled facts, the
evidence staff and the extractors left: precision, recall and F1. Nothing is stored.
"""

from __future__ import annotations

import difflib
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np

import llm
from leads.extraction.evaluation import Example, Report
from leads.extraction.facts import Turn, Value
from leads.extraction.pipeline import conversation_extract
from leads.fields import EVALUATED_FACTS
from leads.models import Conversation, Lead, Message
from leads.selectors.leads import lead_facts
from leads.services.compose import composition_for
from leads.services.reply_writing import model_part, reply_replay, writing_for
from llm.embeddings import Embedder

logger = logging.getLogger(__name__)


@dataclass
class Side:
    """One model's results over the replayed replies and conversations."""

    model: str
    similarity: list[float] = field(default_factory=list)
    first_token_s: list[float] = field(default_factory=list)
    tokens_per_second: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    extraction: Report = field(default_factory=Report)
    model_parts: int = 0  # replies the model wrote part of (the rest are the product's alone)
    withheld: int = 0  # the model's sentences the gate kept from the visitor

    @property
    def replies(self) -> int:
        return len(self.similarity) + len(self.errors)

    def mean(self, values: list[float]) -> float | None:
        return statistics.fmean(values) if values else None


@dataclass
class CanaryReport:
    serving: Side
    candidate: Side
    conversations: int
    measure: str  # how similarity was measured


def _similarity(embedder: Embedder | None, recorded: str, texts: list[str]) -> list[float]:
    if not texts:
        return []
    if embedder is None:
        return [difflib.SequenceMatcher(None, recorded, text).ratio() for text in texts]
    vectors = embedder.embed([recorded, *texts])
    return [float(np.dot(vectors[0], v)) for v in vectors[1:]]


def _answer(model: llm.BaseLLM, reply: Message, side: Side) -> str | None:
    """The reply `model` would write to the visitor message `reply` answered, composed as the
    reply path composes it (the plan, the model's part by its capability, the sentence gate),
    shown to no one."""
    message = reply.in_reply_to
    assert message is not None, "replies are chosen with the message they answer"
    composition = composition_for(message=message)
    part = model_part(composition.plan, model.capability)
    writing = writing_for(message=message, model=model, composition=composition, part=part)
    try:
        with llm.call_context(role="canary", conversation_id=message.conversation_id):
            written = reply_replay(composition=composition, part=part, writing=writing)
    except llm.LLMError as exc:
        side.errors.append(f"reply {reply.id}: {type(exc).__name__}: {exc}")
        return None
    side.model_parts += bool(part)
    side.withheld += len(written.withheld)
    if (done := written.completion) is not None:
        if done.timings.time_to_first_token is not None:
            side.first_token_s.append(done.timings.time_to_first_token)
        if done.tokens_per_second:
            side.tokens_per_second.append(done.tokens_per_second)
    return written.text


def _extract(model: llm.BaseLLM, conversation: Conversation, side: Side) -> None:
    """Score `model`'s reading of the conversation against its lead's settled facts."""
    lead = Lead.objects.filter(conversation=conversation).first()
    if lead is None:
        return
    # The lead's columns hold the facts' values (str, int, bool, Decimal).
    expected = {
        k: cast(Value, v) for k, v in lead_facts(lead).items() if k in EVALUATED_FACTS and v
    }
    messages = conversation.messages.filter(
        status=Message.Status.COMPLETE, role__in=[Message.Role.VISITOR, Message.Role.ASSISTANT]
    ).order_by("created", "id")
    turns = [
        Turn(
            id=m.id, role="visitor" if m.role == Message.Role.VISITOR else "assistant", text=m.text
        )
        for m in messages
    ]
    example = Example(str(conversation.id), conversation.site.default_region, turns, expected)
    try:
        with llm.call_context(role="canary", conversation_id=conversation.id):
            found = conversation_extract(
                turns, region=example.region, extractor="model", model=model
            )
    except llm.LLMError as exc:
        side.errors.append(f"extraction of conversation {conversation.id}: {exc}")
        return
    side.extraction.add(example, found.values)


def canary_run(
    *,
    candidate: llm.BaseLLM,
    serving: llm.BaseLLM,
    serving_extraction: llm.BaseLLM,
    conversations: int = 20,
    site_key: str | None = None,
    embedder: Embedder | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> CanaryReport:
    """Replay the replies of the `conversations` latest conversations (of one Site, or all)
    on `serving` and `candidate`, and extract them again with `serving_extraction` and
    `candidate`."""
    chosen = Conversation.objects.filter(
        messages__role=Message.Role.ASSISTANT, messages__status=Message.Status.COMPLETE
    )
    if site_key is not None:
        chosen = chosen.filter(site__key=site_key)
    chosen = chosen.distinct().select_related("site").order_by("-created")[:conversations]
    report = CanaryReport(Side(serving.name), Side(candidate.name), 0, "")
    report.measure = "embedding cosine" if embedder else "character ratio (no embedding model)"
    for conversation in chosen:
        report.conversations += 1
        replies = conversation.messages.filter(
            role=Message.Role.ASSISTANT, status=Message.Status.COMPLETE, in_reply_to__isnull=False
        ).select_related("in_reply_to__conversation__site")
        for reply in replies:
            started = time.perf_counter()
            answered = []
            for model, side in ((serving, report.serving), (candidate, report.candidate)):
                text = _answer(model, reply, side)
                if text is not None:
                    answered.append((side, text))
            scores = _similarity(embedder, reply.text, [t for _, t in answered])
            for (side, _), score in zip(answered, scores, strict=True):
                side.similarity.append(score)
            progress(f"reply {reply.id}: {time.perf_counter() - started:.1f}s")
        _extract(serving_extraction, conversation, report.serving)
        _extract(candidate, conversation, report.candidate)
    return report
