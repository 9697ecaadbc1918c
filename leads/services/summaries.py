"""A conversation's running summary: a few lines for sales staff (the lead page, the qualified
lead's email and webhook), and what a reply reads in place of the turns that no longer fit the
model's context.

The `summary` role's model writes it (llm/prompts/summary.txt, or the Site's own). It runs on:
the summary so far and the messages after it are folded into a new one, so a long conversation
is never read whole again. Its model calls give way to replies, as the extraction's do.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db.models import Q

import llm
from leads.models import Conversation, Message
from leads.services.priority import background_run
from llm import prompts

logger = logging.getLogger(__name__)

SUMMARY_MAX_TOKENS = 160
_SPEAKERS = {
    Message.Role.VISITOR: "Visitor",
    Message.Role.ASSISTANT: "Assistant",
    Message.Role.AGENT: "Sales rep",
}


def _transcript(messages: list[Message]) -> str:
    return "\n".join(f"{_SPEAKERS[Message.Role(m.role)]}: {m.text}" for m in messages)


def summary_prompt(
    *, conversation: Conversation, messages: list[Message], family: str | None = None
) -> list[llm.ChatMessage]:
    """What the summary model reads: the instructions, the summary so far, the new messages."""
    site = conversation.site
    system = prompts.render(
        "summary",
        family=family,
        override=site.prompt_overrides.get("summary"),
        company_name=site.name,
        company_description=site.description,
    )
    said = _transcript(messages)
    if conversation.summary:
        said = (
            f"Summary of the conversation so far:\n{conversation.summary}\n\nWhat followed:\n{said}"
        )
    return [llm.ChatMessage("system", system), llm.ChatMessage("user", said)]


def conversation_summary_due(*, conversation_id: int) -> bool:
    """Whether SUMMARY_EVERY_MESSAGES finished messages came after the summary (or, without
    one, since the conversation began)."""
    conversation = Conversation.objects.filter(id=conversation_id).first()
    if conversation is None:
        return False
    after = conversation.messages.filter(
        status=Message.Status.COMPLETE, id__gt=conversation.summary_through or 0
    ).exclude(text="")
    return bool(after.count() >= settings.SUMMARY_EVERY_MESSAGES)


def _unsummarised(conversation: Conversation, model: llm.BaseLLM) -> list[Message]:
    """The finished messages after the summary, up to the first message still being written
    (a reply in progress must not be passed over), and no more than half the model's context
    holds: a long backlog is folded in over several rounds."""
    after = conversation.messages.filter(id__gt=conversation.summary_through or 0)
    pending = after.exclude(status=Message.Status.COMPLETE).order_by("id").first()
    if pending is not None:
        after = after.filter(id__lt=pending.id)
    # Half of what the context leaves beside the instructions, the summary and its answer.
    room = ((model.context_window or 4096) - 2 * SUMMARY_MAX_TOKENS) // 2
    chunk: list[Message] = []
    for message in after.filter(status=Message.Status.COMPLETE).exclude(text="").order_by("id"):
        room -= model.count_tokens(message.text) + model.per_message_overhead
        if chunk and room < 0:
            break
        chunk.append(message)
    return chunk


def conversation_summarise(
    *, conversation_id: int, model: llm.BaseLLM | None = None, rounds: int = 8
) -> Conversation | None:
    """Bring the conversation's summary up to its latest finished message, in as many rounds
    (at most `rounds`) as its backlog needs; nothing to do when it is current. Safe to run
    twice: a summary already further along is kept."""
    conversation = Conversation.objects.select_related("site").filter(id=conversation_id).first()
    if conversation is None:
        return None
    for _ in range(rounds):
        model = model or llm.get_llm(role="summary")
        new = _unsummarised(conversation, model)
        if not new:
            break
        if not _fold(conversation, new, model):
            break
    return conversation


def _fold(conversation: Conversation, new: list[Message], model: llm.BaseLLM) -> bool:
    """Fold `new` into the conversation's summary; False when the model wrote nothing."""
    prompt = summary_prompt(conversation=conversation, messages=new, family=model.template_family)

    def write() -> str:
        with llm.call_context(role="summary", conversation_id=conversation.id):
            done = model.complete(prompt, max_tokens=SUMMARY_MAX_TOKENS, temperature=0.2)
        return done.text.strip()

    text = background_run(write, what=f"summary of conversation {conversation.id}")
    if not text:
        logger.warning("the summary model wrote nothing for conversation %s", conversation.id)
        return False
    through = max(m.id for m in new)
    # Only forward: a summary another task wrote further along meanwhile stays; and never onto
    # a conversation erased while the model wrote it.
    Conversation.objects.filter(id=conversation.id, erased_at__isnull=True).filter(
        Q(summary_through__isnull=True) | Q(summary_through__lt=through)
    ).update(summary=text, summary_through=through)
    conversation.refresh_from_db(fields=["summary", "summary_through"])
    return True


def summary_in_place_of(
    conversation: Conversation, turns: list[Message], model: llm.BaseLLM
) -> tuple[list[Message], str]:
    """`turns`, or, when they outgrow half the model's context (or the history limit cut
    older ones) and the conversation has a summary, the turns after it and the summary:
    older turns are folded, not dropped."""
    window, through = model.context_window or 0, conversation.summary_through
    if not conversation.summary or through is None or not turns:
        return turns, ""
    cut = conversation.messages.filter(id__lt=turns[0].id).exists()  # CHAT_HISTORY_LIMIT
    if not cut and sum(model.count_tokens(m.text) for m in turns) < window // 2:
        return turns, ""
    later = [m for m in turns if m.id > through]
    if not later:
        return turns, ""
    logger.info(
        "conversation %s outgrew the context: %d turns folded into its summary",
        conversation.id, len(turns) - len(later),
    )  # fmt: skip
    return later, conversation.summary
