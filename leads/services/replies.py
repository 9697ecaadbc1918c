"""Generating the assistant's reply to a visitor message, streamed to the widget as it is made."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import replace
from datetime import timedelta
from itertools import cycle
from typing import Any, Literal, NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import llm
from leads.errors import ConversationErased
from leads.metrics import REPLY_LEAKS
from leads.models import Message, Site
from leads.selectors.conversations import (
    ErasedWatch,
    message_answered_by_agent,
    sites_visited_last,
)
from leads.selectors.costs import budgets_spent
from leads.services.broadcast import DeltaSender, frame_send
from leads.services.compose import composition_for, composition_sources, staff_note_add
from leads.services.priority import ReplyMark, ReplyWaiting, reply_generating, reply_mark
from leads.services.reply_prompts import (
    reply_prompt,
)
from leads.services.reply_writing import model_part, reply_write, writing_for
from leads.services.slots import conversation_slot, slot_hold

logger = logging.getLogger(__name__)

FAILED_DETAIL = (
    "The assistant could not answer just now. Please send your message again in a moment."
)


class WarmUp(NamedTuple):
    warmed: int  # places that now hold a Site's system prompt
    gave_way: bool  # a reply came first: the places after it were left


def _warm(model: llm.BaseLLM, messages: list[llm.ChatMessage], slot: int | None) -> bool:
    if slot is None:
        return model.warm(messages)
    # Leased as a reply would lease it, so that no reply runs in the slot meanwhile, and a
    # slot a reply holds is left alone.
    with slot_hold(slot) as held:
        return held and model.warm(messages, slot=slot)


def _budget_cap(site: Site) -> dict[str, str]:
    """What a Site over its budget asks of the router (`over_budget = cheaper`): its simple
    tier, the cheapest; nothing while its budgets last, or when it only warns."""
    spent = budgets_spent(site=site)
    if not spent or site.over_budget != Site.OverBudget.CHEAPER:
        return {}
    said = ", ".join(f"{b.period} budget {b.budget} spent ({b.spent:.2f})" for b in spent)
    logger.warning("site %s: %s; replies go to the simple tier", site.key, said)
    return {"max_tier": "simple", "cap_reason": said}


def _route_fields(route: llm.Route | None) -> dict[str, Any]:
    """What a reply records of the router's decision (none without a router)."""
    if route is None:
        return {}
    return {"route_tier": route.tier, "route_score": route.score, "route_reasons": route.reasons}


def reply_warm_up(*, model: llm.BaseLLM | None = None) -> WarmUp:
    """Evaluate Sites' system prompts where the reply model keeps prompts, before any visitor
    comes: in each server slot the replies lease (`REPLY_SLOTS`), or in this worker process's
    own context, the Sites visited last taking turns. A new conversation of such a Site then
    reads only its own first message. Only places that hold no prompt yet are used, and the
    work gives way to any reply.
    """
    model = model or llm.get_llm(role="reply")
    places: list[int | None] = [*range(settings.REPLY_SLOTS)] or [None]
    sites = sites_visited_last(limit=len(places))
    warmed, gave_way = 0, False
    try:
        with llm.background(ReplyWaiting()):
            for place, site in zip(places, cycle(sites), strict=False):
                prompt, _, _ = reply_prompt(site=site, turns=[], family=model.template_family)
                warmed += _warm(model, prompt[:1], place)  # the system prompt
    except llm.Preempted:
        gave_way = True
        logger.info("warming the model gave way to a reply")
    except llm.LLMError as exc:
        logger.warning("could not warm the model (replies read the whole prompt): %s", exc)
    logger.info(
        "warmed %d of %d place(s) of %s with Site system prompts", warmed, len(places), model.name
    )
    return WarmUp(warmed, gave_way)


Claim = Literal["mine", "done", "busy", "given_up"]


def _reply_claim(*, message: Message, task_id: str) -> tuple[Message, Claim]:
    """The reply row, and whether this run may write it ("mine") or why not."""
    now = timezone.now()
    with transaction.atomic():
        reply, created = Message.objects.select_for_update().get_or_create(
            in_reply_to=message,
            defaults={
                "conversation": message.conversation,
                "role": Message.Role.ASSISTANT,
                "status": Message.Status.GENERATING,
                "task_id": task_id,
                "claimed_at": now,
                "attempts": 1,
            },
        )
        if created:
            return reply, "mine"
        if reply.status == Message.Status.COMPLETE:
            return reply, "done"
        lease_start = now - timedelta(seconds=settings.REPLY_LEASE_SECONDS)
        live = reply.claimed_at is not None and reply.claimed_at >= lease_start
        if reply.status == Message.Status.GENERATING and reply.task_id != task_id and live:
            return reply, "busy"  # another task is generating it right now
        if reply.attempts >= settings.REPLY_MAX_ATTEMPTS:
            reply.status = Message.Status.FAILED
            reply.save(update_fields=["status"])
            return reply, "given_up"
        # Failed before, abandoned, or our own task redelivered after its worker died.
        reply.status, reply.task_id, reply.text = Message.Status.GENERATING, task_id, ""
        reply.claimed_at, reply.attempts = now, reply.attempts + 1
        reply.save(update_fields=["status", "task_id", "text", "claimed_at", "attempts"])
        return reply, "mine"


def _failed(*, conversation_id: int, reply: Message, in_reply_to: int) -> None:
    frame_send(
        conversation_id=conversation_id,
        frame={
            "type": "error",
            "code": "reply_failed",
            "detail": FAILED_DETAIL,
            "message": reply.id,
            # The visitor message to send again (same client id) to ask for another try,
            # which is taken until the reply has used up its attempts.
            "in_reply_to": in_reply_to,
            "retryable": reply.attempts < settings.REPLY_MAX_ATTEMPTS,
        },
    )
    frame_send(conversation_id=conversation_id, frame={"type": "typing", "on": False})


def _dropped(*, reply: Message, conversation_id: int) -> None:
    """The conversation was erased while its reply was written: nothing of it is kept."""
    logger.warning("conversation %s was erased while replying", conversation_id)
    Message.objects.filter(id=reply.id).update(
        text="", turn_note="", withheld=[], status=Message.Status.FAILED
    )


def _made_by(
    completion: llm.Completion | None, *, model: llm.BaseLLM, called: bool
) -> dict[str, Any]:
    """What a reply records of the model call that wrote part of it (little, when it was
    stopped; nothing when the product wrote it all)."""
    if not called:
        return {}
    if completion is None:
        return {"model_name": model.name[:200]}
    return {
        "model_name": completion.model[:200],
        "prompt_tokens": completion.usage.prompt_tokens,
        "completion_tokens": completion.usage.completion_tokens,
        "cached_tokens": completion.usage.cached_tokens,
        "generation_ms": round(completion.timings.total * 1000),
        "agreement": completion.agreement,
        **_route_fields(completion.route),
    }


def reply_generate(
    *, message_id: int, task_id: str, model: llm.BaseLLM | None = None
) -> Message | None:
    """Generate, stream and store the reply to visitor message `message_id`; safe to run twice.

    `model` defaults to the configured one (`llm.get_llm()`), loaded once per process. Any
    failure marks the reply failed and tells the widget before it is raised again. From being
    queued to here, the reply is marked (services.priority): background model work waits.
    """
    with reply_generating(reply_mark(message_id)) as mark:
        return _reply_generate(message_id=message_id, task_id=task_id, model=model, mark=mark)


def _reply_generate(
    *, message_id: int, task_id: str, model: llm.BaseLLM | None, mark: ReplyMark
) -> Message | None:
    message = Message.objects.select_related("conversation__site").filter(id=message_id).first()
    if message is None:
        logger.warning("message %s no longer exists; no reply", message_id)
        return None
    conversation_id = message.conversation_id
    if message.conversation.erased_at is not None:
        return None  # the person's data is gone: nothing to answer, nothing to write
    if message_answered_by_agent(message=message):
        logger.info("a rep answers message %s; no reply from the assistant", message_id)
        return None
    # From the message being stored to this task starting: the commit, the queue, the worker.
    queued = timezone.now() - message.created
    reply, claim = _reply_claim(message=message, task_id=task_id)
    if claim == "given_up":
        logger.error(
            "gave up on the reply to message %s after %d attempts", message_id, reply.attempts
        )
        _failed(conversation_id=conversation_id, reply=reply, in_reply_to=message_id)
    if claim != "mine":
        return None
    try:
        model = model or llm.get_llm(role="reply")
        site = message.conversation.site
        composition = composition_for(message=message)
        plan = composition.plan
        part = model_part(plan, model.capability)
        # The model's prompt, only when it writes (the product's words alone need none).
        writing = writing_for(message=message, model=model, composition=composition, part=part)
        # The note quotes the lead's facts: never written onto an erased conversation.
        Message.objects.filter(id=reply.id, conversation__erased_at__isnull=True).update(
            asked_field=plan.asked_topic or "",
            turn_note=writing.note if writing else "",
            intent=plan.intent,
            language=composition.language,
            sources=composition_sources(composition, model_read=part == "reply"),
        )
        staff_note_add(message=message, plan=plan)
        frame_send(conversation_id=conversation_id, frame={"type": "typing", "on": True})
        deltas = DeltaSender(
            conversation_id=conversation_id,
            message_id=reply.id,
            interval=settings.CHAT_DELTA_INTERVAL_MS / 1000,
        )
        # A reply the product writes alone needs no model slot and spends no budget.
        with (
            conversation_slot(conversation_id) if part else nullcontext() as slot,
            llm.call_context(role="reply", conversation_id=conversation_id, **_budget_cap(site))
            if part
            else nullcontext(),
        ):
            written = reply_write(
                composition=composition,
                part=part,
                writing=replace(writing, slot=slot) if writing else None,
                deltas=deltas,
                mark=mark,
                erased=ErasedWatch(conversation_id),
            )
        if written.erased:
            _dropped(reply=reply, conversation_id=conversation_id)
            return None
        deltas.flush()
        text, completion = written.text, written.completion
        if written.leak:
            REPLY_LEAKS.labels(kind=written.leak).inc()
            logger.warning(
                "reply %s repeated the system prompt (%s): stopped", reply.id, written.leak
            )
        # What the visitor waited, from their message being stored (queueing included).
        waited = (written.first_shown or timezone.now()) - message.created
        if not Message.objects.filter(id=reply.id, conversation__erased_at__isnull=True).update(
            text=text,
            status=Message.Status.COMPLETE,
            leak=written.leak,
            withheld=written.withheld,
            first_token_ms=max(0, round(waited.total_seconds() * 1000)),
            **_made_by(completion, model=model, called=bool(part)),
        ):
            _dropped(reply=reply, conversation_id=conversation_id)
            return None
    except ConversationErased:
        _dropped(reply=reply, conversation_id=conversation_id)
        return None
    except Exception as exc:
        Message.objects.filter(id=reply.id).update(status=Message.Status.FAILED)
        logger.error("reply to message %s failed: %s", message_id, exc)
        _failed(conversation_id=conversation_id, reply=reply, in_reply_to=message_id)
        raise
    reply.text, reply.status = text, Message.Status.COMPLETE
    logger.info(
        "reply %s: %s in %s, %d passage(s), the model wrote %s, %d sentence(s) withheld",
        reply.id,
        plan.intent,
        composition.language,
        len(plan.passage_ids),
        {"": "nothing", "ack": "the acknowledgement", "reply": "the answer"}[part],
        len(written.withheld),
    )
    if completion is not None:
        logger.info(
            "reply %s: %d tokens in %.2fs, %.1f tok/s (first token after %.2fs; "
            "prompt %d tokens, %d reused; %s; queued %d ms)",
            reply.id,
            completion.usage.completion_tokens,
            completion.timings.total,
            completion.tokens_per_second or 0.0,
            completion.timings.time_to_first_token or 0.0,
            completion.usage.prompt_tokens,
            completion.usage.cached_tokens,
            completion.finish_reason,
            round(queued.total_seconds() * 1000),
        )
    frame_send(
        conversation_id=conversation_id,
        frame={"type": "reply", "message": reply.id, "role": "assistant", "text": text},
    )
    frame_send(conversation_id=conversation_id, frame={"type": "typing", "on": False})
    return reply
