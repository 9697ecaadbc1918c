"""Generating the assistant's reply to a visitor message, streamed to the widget as it is made."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import llm
from leads import policy
from leads.models import Message, Site
from leads.selectors.conversations import conversation_turns_before, message_answered_by_agent
from leads.selectors.leads import ReplyFacts, reply_facts
from leads.services.broadcast import DeltaSender, frame_send
from llm import prompts

logger = logging.getLogger(__name__)

FAILED_DETAIL = (
    "The assistant could not answer just now. Please send your message again in a moment."
)

# A rep's messages are the seller's side of the chat, as the assistant's are.
ROLE_TO_CHAT: dict[str, llm.ChatRole] = {
    Message.Role.VISITOR: "user",
    Message.Role.ASSISTANT: "assistant",
    Message.Role.AGENT: "assistant",
}


def reply_prompt(
    *,
    site: Site,
    turns: list[Message],
    family: str | None = None,
    facts: Mapping[str, object] | None = None,
    declined: Iterable[str] = (),
    qualified: bool = False,
) -> tuple[list[llm.ChatMessage], str | None]:
    """The chat the model continues (the site's system prompt, then the conversation), and
    the qualification field it is told to ask for next."""
    facts = facts or {}
    field = (
        None
        if qualified
        else policy.next_field(order=site.qualification_fields, facts=facts, declined=declined)
    )
    system = prompts.render(
        "qualification_reply",
        family=family,
        override=site.prompt_overrides.get("qualification_reply"),
        company_name=site.name,
        company_description=site.description.strip(),
        ask=policy.instruction(field=field, qualified=qualified, next_step=site.next_step),
        known=policy.known_summary(facts),
    )
    chat = [llm.ChatMessage("system", system)] + [
        llm.ChatMessage(ROLE_TO_CHAT[Message.Role(m.role)], m.text) for m in turns
    ]
    return chat, field


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


def reply_generate(
    *, message_id: int, task_id: str, model: llm.BaseLLM | None = None
) -> Message | None:
    """Generate, stream and store the reply to visitor message `message_id`; safe to run twice.

    `model` defaults to the configured one (`llm.get_llm()`), loaded once per process. Any
    failure marks the reply failed and tells the widget before it is raised again.
    """
    message = Message.objects.select_related("conversation__site").filter(id=message_id).first()
    if message is None:
        logger.warning("message %s no longer exists; no reply", message_id)
        return None
    conversation_id = message.conversation_id
    if message_answered_by_agent(message=message):
        logger.info("a rep answers message %s; no reply from the assistant", message_id)
        return None
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
        turns = conversation_turns_before(message=message, limit=settings.CHAT_HISTORY_LIMIT)
        try:
            known = reply_facts(conversation_id=conversation_id)
        except Exception:
            # A bug in reading facts must not cost the visitor their answer: reply without them.
            logger.exception("could not read the lead facts for message %s", message_id)
            known = ReplyFacts(facts={}, declined=[], qualified=False)
        prompt, asked = reply_prompt(
            site=message.conversation.site,
            turns=turns,
            family=model.template_family,
            facts=known.facts,
            declined=known.declined,
            qualified=known.qualified,
        )
        Message.objects.filter(id=reply.id).update(asked_field=asked or "")
        frame_send(conversation_id=conversation_id, frame={"type": "typing", "on": True})
        completion, first_token_at = None, None
        deltas = DeltaSender(
            conversation_id=conversation_id,
            message_id=reply.id,
            interval=settings.CHAT_DELTA_INTERVAL_MS / 1000,
        )
        for item in model.stream(prompt):
            if isinstance(item, llm.Completion):
                completion = item
            else:
                first_token_at = first_token_at or timezone.now()
                deltas.add(item)
        deltas.flush()
        if completion is None:
            raise llm.GenerationFailed("the model stream ended without a completion")
        text = completion.text.strip()
        # What the visitor waited, from their message being stored (queueing included).
        waited = (first_token_at or timezone.now()) - message.created
        if not Message.objects.filter(id=reply.id).update(
            text=text,
            status=Message.Status.COMPLETE,
            model_name=model.name[:200],
            prompt_tokens=completion.usage.prompt_tokens,
            completion_tokens=completion.usage.completion_tokens,
            first_token_ms=max(0, round(waited.total_seconds() * 1000)),
            generation_ms=round(completion.timings.total * 1000),
        ):
            logger.warning("conversation %s was erased while replying", conversation_id)
            return None
    except Exception as exc:
        Message.objects.filter(id=reply.id).update(status=Message.Status.FAILED)
        logger.error("reply to message %s failed: %s", message_id, exc)
        _failed(conversation_id=conversation_id, reply=reply, in_reply_to=message_id)
        raise
    reply.text, reply.status = text, Message.Status.COMPLETE
    logger.info(
        "reply %s: %d tokens in %.2fs, %.1f tok/s (first token after %.2fs)",
        reply.id,
        completion.usage.completion_tokens,
        completion.timings.total,
        completion.tokens_per_second or 0.0,
        completion.timings.time_to_first_token or 0.0,
    )
    frame_send(
        conversation_id=conversation_id,
        frame={"type": "reply", "message": reply.id, "role": "assistant", "text": text},
    )
    frame_send(conversation_id=conversation_id, frame={"type": "typing", "on": False})
    return reply
