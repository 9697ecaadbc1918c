"""Reading conversations: a site by its key, the Sites visited last, the history a widget shows,
the turns a reply reads, and which visitor messages still wait for an answer."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from leads.models import Conversation, Message, Site


class Rep(NamedTuple):
    """A rep as a visitor may know them: the first name alone ("" when they gave none)."""

    first_name: str


def site_get_by_key(*, key: str) -> Site | None:
    return Site.objects.filter(key=key).first()


def sites_visited_last(*, limit: int) -> list[Site]:
    """Up to `limit` Sites, the one whose latest conversation began last first; then the ones
    never visited, oldest first."""
    return list(
        Site.objects.annotate(latest=Max("conversations__created")).order_by(
            F("latest").desc(nulls_last=True), "id"
        )[:limit]
    )


def conversation_history(*, conversation: Conversation, limit: int) -> list[Message]:
    """The latest `limit` finished messages, oldest first, as the widget shows them."""
    recent = (
        conversation.messages.filter(status=Message.Status.COMPLETE)
        .exclude(text="")
        .select_related("author")
        .order_by("-created", "-id")[:limit]
    )
    return list(reversed(recent))


# What the widget shows of a message; the author is a rep's (None: the visitor's or the bot's).
SHOWN_FIELDS = ("id", "role", "text", "created", "client_id", "author__first_name")


def conversation_shown(
    *, conversation_id: int, limit: int
) -> tuple[list[dict[str, Any]], Rep | None]:
    """What a widget's `welcome` shows: `conversation_history` as plain rows (SHOWN_FIELDS), and
    the rep who has taken the conversation over, read afresh (None while the bot answers).

    Every hello of a reconnect storm reads this: rows, not models (a third less work for the
    web process's one ORM thread, docs/benchmarks.md).
    """
    rows = list(
        Message.objects.filter(conversation_id=conversation_id, status=Message.Status.COMPLETE)
        .exclude(text="")
        .order_by("-created", "-id")
        .values(*SHOWN_FIELDS)[:limit]
    )
    rows.reverse()
    taken = (
        Conversation.objects.filter(id=conversation_id, agent__isnull=False)
        .values_list("agent__first_name", flat=True)
        .first()
    )
    return rows, None if taken is None else Rep(taken)


def message_before(*, conversation_id: int, before_id: int | None = None) -> Message | None:
    """The conversation's last message before message `before_id` (None: before one about to be
    stored): the question a visitor message may answer. Failed replies do not count."""
    messages = Message.objects.filter(conversation_id=conversation_id)
    if before_id is not None:
        messages = messages.filter(id__lt=before_id)
    return (
        messages.exclude(role=Message.Role.ASSISTANT, status=Message.Status.FAILED)
        .order_by("-id")
        .first()
    )


def conversation_turns_before(*, message: Message, limit: int) -> list[Message]:
    """The context of the reply to `message`: the latest `limit` finished turns up to it.

    Each earlier answer follows the message it answers, even when it was stored after later
    visitor messages (two quick messages), and nothing the visitor said after `message` is seen.
    """
    turns = (
        message.conversation.messages.filter(status=Message.Status.COMPLETE)
        .filter(
            Q(role=Message.Role.VISITOR, id__lte=message.id)
            | Q(role=Message.Role.ASSISTANT, in_reply_to_id__lt=message.id)
            | Q(role=Message.Role.AGENT, id__lt=message.id)
        )
        .exclude(text="")
        .order_by("-id")[:limit]
    )
    return sorted(turns, key=lambda m: (m.in_reply_to_id or m.id, m.in_reply_to_id is not None))


def visitor_messages_unanswered(
    *, created_after: datetime, created_before: datetime
) -> QuerySet[Message]:
    """Visitor messages from the window that have no reply, or one that failed or was abandoned.

    A reply still inside its lease is being written and is left alone; one that used up its
    attempts has been given up on. A rep answers those of a conversation they have taken over,
    and those that a rep's message follows.
    """
    lease_start = timezone.now() - timedelta(seconds=settings.REPLY_LEASE_SECONDS)
    return (
        Message.objects.filter(
            role=Message.Role.VISITOR,
            created__gt=created_after,
            created__lt=created_before,
            conversation__erased_at__isnull=True,
        )
        .exclude(_answered_by_agent())
        .filter(
            Q(reply__isnull=True)
            | Q(
                reply__status=Message.Status.FAILED, reply__attempts__lt=settings.REPLY_MAX_ATTEMPTS
            )
            | Q(
                reply__status=Message.Status.GENERATING,
                reply__claimed_at__lt=lease_start,
                reply__attempts__lt=settings.REPLY_MAX_ATTEMPTS,
            )
        )
    )


def visitor_words(*, message: Message) -> str:
    """What the visitor wrote in `message`'s conversation up to it: what a reply to it may say
    back (numbers they gave) and must not take as the agent's own (leads/claims.py)."""
    texts = Message.objects.filter(
        conversation_id=message.conversation_id, role=Message.Role.VISITOR, id__lte=message.id
    ).values_list("text", flat=True)
    return "\n".join(texts)


class ErasedWatch:
    """Whether a conversation was erased, asked as often as a reply streams but read from the
    database at most once a second; `seen` once it was."""

    def __init__(self, conversation_id: int, every: float = 1.0) -> None:
        self.conversation_id, self.every = conversation_id, every
        self.seen, self._next = False, 0.0

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self.seen and now >= self._next:
            self._next = now + self.every
            self.seen = Conversation.objects.filter(
                id=self.conversation_id, erased_at__isnull=False
            ).exists()
        return self.seen


def conversation_reply_in_flight(*, conversation: Conversation) -> bool:
    """Whether the assistant is answering one of the conversation's visitor messages: its reply
    is being written (a live lease), or it was sent less than CHAT_REPLY_TIMEOUT_SECONDS ago and
    has no reply yet. A failed, abandoned or long-lost reply is not in flight, nor is a message
    a rep answers."""
    now = timezone.now()
    sent_since = now - timedelta(seconds=settings.CHAT_REPLY_TIMEOUT_SECONDS)
    lease_start = now - timedelta(seconds=settings.REPLY_LEASE_SECONDS)
    return (
        Message.objects.filter(conversation=conversation, role=Message.Role.VISITOR)
        .exclude(_answered_by_agent())
        .filter(
            Q(reply__isnull=True, created__gt=sent_since)
            | Q(reply__status=Message.Status.GENERATING, reply__claimed_at__gte=lease_start)
        )
        .exists()
    )


def _answered_by_agent() -> Q:
    """A visitor message a rep answers: they hold its conversation, or wrote after it."""
    rep_wrote_after = Message.objects.filter(
        conversation=OuterRef("conversation"), role=Message.Role.AGENT, id__gt=OuterRef("id")
    )
    return Q(conversation__agent__isnull=False) | Q(Exists(rep_wrote_after))


def message_answered_by_agent(*, message: Message) -> bool:
    """Whether a rep, not the assistant, answers visitor message `message`."""
    return Message.objects.filter(_answered_by_agent(), id=message.id).exists()
