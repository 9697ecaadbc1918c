"""Replies the model suggests to a rep who has taken a conversation over; never sent by itself."""

from __future__ import annotations

import logging

from django.conf import settings

import llm
from leads import dispatch
from leads.errors import QueueUnavailable
from leads.guard import leak_safe
from leads.models import Conversation
from leads.selectors.conversations import conversation_history
from leads.selectors.leads import reply_facts
from leads.services.broadcast import staff_conversation_send
from leads.services.priority import reply_generating
from leads.services.reply_prompts import reply_leak_guard, reply_options, reply_prompt
from leads.services.slots import conversation_slot

logger = logging.getLogger(__name__)

# A suggestion nobody waits for any more is not worth the model's time.
SUGGESTION_EXPIRES_SECONDS = 120
SUGGESTION_FAILED = "The model could not suggest a reply just now; write your own."
SUGGESTION_LEAKED = (
    "The suggestion began to repeat the assistant's instructions and was stopped; write your own."
)


def suggestion_request(*, conversation: Conversation, request_id: str) -> None:
    """Queue a suggestion; it streams to the dashboards watching the conversation.
    `QueueUnavailable` when the broker cannot take it."""
    try:
        dispatch.enqueue(
            dispatch.REPLY_SUGGEST,
            conversation.id,
            request_id,
            expires=SUGGESTION_EXPIRES_SECONDS,
        )
    except QueueUnavailable as exc:
        raise QueueUnavailable("Suggestions are unavailable just now (no task queue).") from exc


def reply_suggest(
    *, conversation_id: int, request_id: str, model: llm.BaseLLM | None = None
) -> str | None:
    """Write the reply the assistant would give now, streamed as `suggestion` frames."""
    conversation = Conversation.objects.select_related("site").filter(id=conversation_id).first()
    if conversation is None:
        return None

    def send(text: str, done: bool, error: str = "") -> None:
        frame = {"type": "suggestion", "request": request_id, "text": text, "done": done}
        if error:
            frame["error"] = error
        staff_conversation_send(conversation_id=conversation_id, frame=frame)

    try:
        model = model or llm.get_llm(role="reply")
        turns = conversation_history(conversation=conversation, limit=settings.CHAT_HISTORY_LIMIT)
        known = reply_facts(conversation_id=conversation_id)
        prompt, _, _ = reply_prompt(
            site=conversation.site,
            turns=turns,
            family=model.template_family,
            facts=known.facts,
            declined=known.declined,
            qualified=known.qualified,
        )
        text = ""
        options = reply_options(model=model, site=conversation.site)
        # Guarded as a reply is: a rep may send it on as it stands.
        guarded = reply_leak_guard(site=conversation.site, prompt=prompt).stream()
        # A rep waits for it as a visitor would; it continues the conversation's own prompt.
        with (
            reply_generating() as mark,
            conversation_slot(conversation_id) as slot,
            llm.call_context(role="suggestion", conversation_id=conversation_id),
        ):
            for item in model.stream(prompt, **options, cache_slot=slot):
                if isinstance(item, llm.Completion):
                    text = item.text
                    break
                if guarded.feed(item):
                    send(guarded.shown, False)
                    mark.refresh()
                if guarded.leak:
                    break  # the model is stopped
    except Exception as exc:
        logger.error("suggestion for conversation %s failed: %s", conversation_id, exc)
        send("", True, SUGGESTION_FAILED)
        return None
    if guarded.leak or guarded.guard.leak_in(text):
        kept = leak_safe(guarded.shown, fallback="")
        send(kept, True, SUGGESTION_LEAKED)
        return kept or None
    send(text.strip(), True)
    return text.strip()
