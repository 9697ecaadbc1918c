"""`manage.py eval_replies`: each state of leads/data/reply_states.jsonl through the real reply
path, against a throwaway Site with the demo's knowledge, in a transaction rolled back at the
end; the reply as stored is checked (leads/reply_eval.py). Nothing of it stays."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction

import llm
from leads.models import Lead, Message, Passage, Site
from leads.reply_eval import ReplyState, reply_checks
from leads.services.conversations import conversation_resume_or_start
from leads.services.knowledge import passages_embed
from leads.services.leads import lead_ensure
from leads.services.messages import message_receive
from leads.services.replies import reply_generate
from leads.services.reply_prompts import reply_prompt, site_canary, visitor_readable
from leads.services.setup import demo_knowledge_ensure


@dataclass(frozen=True)
class StateResult:
    state: ReplyState
    reply: str
    asked: str  # the policy's next question, as the reply was told it
    checks: dict[str, bool]

    @property
    def passed(self) -> bool:
        return all(self.checks.values())


@dataclass(frozen=True)
class EvaluationSite:
    """The throwaway Site, and what every state's checks read of it (read once)."""

    site: Site
    knowledge: list[str]  # its passages, "heading: text"
    canary: str
    instructions: str  # its system prompt
    readable: list[str]  # what a visitor may read of it anyway


@contextmanager
def evaluation_site(like: Site) -> Iterator[EvaluationSite]:
    """A copy of `like` with the demo's knowledge (embedded where an embedder can run), inside
    a transaction that is rolled back when the evaluation ends."""
    with transaction.atomic():
        try:
            site = Site.objects.get(pk=like.pk)
            site.pk, site.key = None, f"eval-{uuid.uuid4().hex[:12]}"
            site.save()
            demo_knowledge_ensure(site)
            # Without an embedder, retrieval by words alone, as such a deployment has.
            with contextlib.suppress(llm.LLMError):
                passages_embed(site_id=site.id)
            passages = Passage.objects.filter(site=site).values_list("heading", "text")
            (system, *_), _, _ = reply_prompt(site=site, turns=[])
            yield EvaluationSite(
                site=site,
                knowledge=[f"{heading}: {text}" for heading, text in passages],
                canary=site_canary(site),
                instructions=system.content,
                readable=visitor_readable(site),
            )
        finally:
            transaction.set_rollback(True)


def state_evaluate(
    *, evaluation: EvaluationSite, state: ReplyState, model: llm.BaseLLM
) -> StateResult:
    """`state`'s visitor message answered on the evaluation's Site by `model`, and the reply's
    checks."""
    site = evaluation.site
    with transaction.atomic():
        try:
            conversation = conversation_resume_or_start(site=site, visitor_token=None)
            if state.facts:
                lead = lead_ensure(conversation=conversation)
                Lead.objects.filter(id=lead.id).update(**state.facts)
            said: Message | None = None
            for turn in state.turns:
                role = Message.Role.VISITOR if turn.role == "visitor" else Message.Role.ASSISTANT
                created = Message.objects.create(
                    conversation=conversation,
                    role=role,
                    text=turn.text,
                    in_reply_to=said if role == Message.Role.ASSISTANT else None,
                )
                said = created if role == Message.Role.VISITOR else said
            message = message_receive(
                conversation=conversation, text=state.visitor, client_id=uuid.uuid4()
            )
            reply = reply_generate(message_id=message.id, task_id=f"eval-{state.id}", model=model)
            stored = Message.objects.get(id=reply.id) if reply is not None else None
            text, asked = (stored.text, stored.asked_field) if stored else ("", "")
            checks = reply_checks(
                state,
                text,
                knowledge=evaluation.knowledge,
                next_topic=asked or None,
                canary=evaluation.canary,
                instructions=evaluation.instructions,
                readable=evaluation.readable,
            )
            return StateResult(state, text, asked, checks)
        finally:
            transaction.set_rollback(True)
