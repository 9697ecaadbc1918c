"""Keeping each model call's record (`llm.metrics`) for the metrics page."""

from __future__ import annotations

import llm
from leads.models import ModelCall, Site
from leads.selectors.widget import site_limits
from leads.services.throttle import tokens_spend


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else max(0, round(seconds * 1000))


def model_call_record(record: llm.CallRecord) -> ModelCall:
    """Store `record`; its context's `conversation_id` ties it to a conversation, whose Site's
    day of model tokens it is charged to (`tokens_per_day`)."""
    conversation_id = record.context.get("conversation_id")
    call = ModelCall.objects.create(
        role=record.role[:32],
        model=record.model[:200],
        backend=record.backend[:32],
        tier=record.tier[:16],
        conversation_id=conversation_id if isinstance(conversation_id, int) else None,
        outcome=record.outcome,
        error_type=record.error_type[:64],
        failovers=list(record.failovers),
        prompt_tokens=record.prompt_tokens,
        completion_tokens=record.completion_tokens,
        first_token_ms=_ms(record.first_token_s),
        total_ms=_ms(record.total_s) or 0,
        tokens_per_second=record.tokens_per_second,
        agreement=record.agreement,
        cost=record.cost,
    )
    site = None
    if call.conversation_id is not None:
        site = Site.objects.filter(conversations=call.conversation_id).first()
    if site is not None:
        tokens = (record.prompt_tokens or 0) + (record.completion_tokens or 0)
        tokens_spend(site_id=site.id, limits=site_limits(site=site), tokens=tokens)
    return call
