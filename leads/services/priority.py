"""Replies first: background model work (extraction) runs only while no reply is generating.

A visitor waits for a reply; nobody waits for extraction. On a machine with one GPU or a few
cores, a reply decoded beside an extraction runs at half speed or less, whether the two share a
process, a model server, or only the cores. So each reply marks itself in Redis while it
generates, and background generations run inside `llm.background`: they do not start while a
reply is marked, and stop between two tokens as soon as one is (`llm.Preempted`), to run again
once the replies are done. The engine keeps the prompt it evaluated, so running it again costs
little more than the tokens it had generated.

Marks expire unless the reply refreshes them as it streams, so a worker killed mid-reply holds
extraction back for `MARK_SECONDS` at most. If Redis cannot be reached, nothing waits: the
extraction runs beside the reply, as it would without this module.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import redis
from django.conf import settings

import llm

logger = logging.getLogger(__name__)

MARK_SECONDS = 30  # how long a reply's mark outlives its last refresh
REFRESH_SECONDS = 5
CHECK_SECONDS = 0.02  # how often a background generation asks whether a reply waits
MAX_PREEMPTIONS = 50  # then the background work runs anyway, rather than never
T = TypeVar("T")

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def shared_redis() -> redis.Redis:
    """This process's client for the replies' bookkeeping (marks here, slots in slots.py)."""
    url = settings.REDIS_URL
    with _clients_lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return _clients[url]


def _key() -> str:
    # Per deployment: two salesbots on one Redis have their own queues, and their own marks.
    return f"{settings.CELERY_TASK_DEFAULT_QUEUE}:replies-generating"


class ReplyMark:
    """One reply on its way: kept in Redis while it streams (`refresh`)."""

    def __init__(self, member: str | None = None) -> None:
        self.member = member or uuid.uuid4().hex
        self._refreshed = 0.0

    def refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._refreshed < REFRESH_SECONDS:
            return
        self._refreshed = now
        try:
            shared_redis().zadd(_key(), {self.member: time.time() + MARK_SECONDS})
        except redis.RedisError as exc:
            logger.warning("could not mark a reply as generating: %s", exc)

    def clear(self) -> None:
        try:
            shared_redis().zrem(_key(), self.member)
        except redis.RedisError as exc:
            logger.warning("could not clear a reply's mark: %s", exc)


def reply_mark(message_id: int) -> ReplyMark:
    """The mark of the reply to visitor message `message_id`."""
    return ReplyMark(f"reply:{message_id}")


def reply_queued(*, message_id: int) -> None:
    """Mark the reply to `message_id` from before it is queued: an extraction queued beside it
    then waits for it rather than starting first and taking the cores while the reply reads its
    prompt. The reply task clears the mark (or it expires)."""
    reply_mark(message_id).refresh(force=True)


@contextmanager
def reply_generating(mark: ReplyMark | None = None) -> Iterator[ReplyMark]:
    """Mark a reply as generating for as long as the block runs; refresh it as it streams."""
    mark = mark or ReplyMark()
    mark.refresh(force=True)
    try:
        yield mark
    finally:
        mark.clear()


def replies_generating() -> int:
    """How many replies are generating now, across every worker."""
    key = _key()
    try:
        pipe = shared_redis().pipeline()
        pipe.zremrangebyscore(key, "-inf", time.time())
        pipe.zcard(key)
        _, count = pipe.execute()
    except redis.RedisError as exc:
        logger.warning("could not read the replies generating (not waiting for them): %s", exc)
        return 0
    return int(count)


class ReplyWaiting:
    """`llm.background`'s question, asked at most every CHECK_SECONDS: does a reply generate?"""

    def __init__(self) -> None:
        self._checked = 0.0
        self._answer = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self._checked >= CHECK_SECONDS:
            self._checked, self._answer = now, replies_generating() > 0
        return self._answer


def replies_wait(*, poll: float = 0.05) -> None:
    """Return once no reply is generating."""
    while replies_generating():
        time.sleep(poll)


def background_run(work: Callable[[], T], *, what: str) -> T:
    """Run `work`, whose model calls give way to replies; again after each time they did."""
    if not settings.EXTRACTION_YIELDS_TO_REPLIES:
        return work()
    for preempted in range(MAX_PREEMPTIONS):
        replies_wait()
        try:
            with llm.background(ReplyWaiting()):
                return work()
        except llm.Preempted:
            logger.info("%s gave way to a reply (%d)", what, preempted + 1)
    logger.warning("%s gave way to replies %d times; it runs now", what, MAX_PREEMPTIONS)
    return work()
