"""Each conversation on the model server slot that holds its evaluated prompt.

llama.cpp's server keeps one evaluated prompt per slot and gives a request the idle slot whose
prompt it shares most with. A new conversation shares the Site's system prompt with every slot,
so it takes the slot of the conversation that answered last, and that conversation's next turn
finds only the system prompt left: two visitors taking turns each read their whole
conversation again, every turn (measured on the server alone; docs/benchmarks.md). So the reply
workers choose the slot themselves (`Options.cache_slot`): the conversation's own slot when it
is idle, else the one least recently used, an empty one first. The choice is one Redis script,
so that the workers never pick the same slot at once.

A lease outlives a killed worker by `BUSY_SECONDS` at most. Without Redis, or with every slot
leased, the server chooses, as it would without this module.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings

from leads.services.priority import shared_redis

logger = logging.getLogger(__name__)

BUSY_SECONDS = 600  # longer than any reply; a dead worker's lease ends then

# KEYS: owners (hash: slot -> conversation), used (sorted set: slot -> last release).
# ARGV: conversation, slots, the busy keys' prefix, BUSY_SECONDS. Returns the slot, or -1.
_LEASE = """
local conversation, slots, busy, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local chosen, oldest = nil, nil
for slot = 0, slots - 1 do
  if redis.call('EXISTS', busy .. slot) == 0 then
    if redis.call('HGET', KEYS[1], slot) == conversation then
      chosen = slot
      break
    end
    local used = tonumber(redis.call('ZSCORE', KEYS[2], slot) or '-1')
    if oldest == nil or used < oldest then
      chosen, oldest = slot, used
    end
  end
end
if chosen == nil then
  return -1
end
redis.call('SET', busy .. chosen, conversation, 'EX', ttl)
redis.call('HSET', KEYS[1], chosen, conversation)
return chosen
"""


def _prefix() -> str:
    # Per deployment, as the queues are: two salesbots on one Redis have servers of their own.
    return f"{settings.CELERY_TASK_DEFAULT_QUEUE}:slots"


@contextmanager
def conversation_slot(conversation_id: int) -> Iterator[int | None]:
    """The server slot to generate conversation `conversation_id`'s reply in, for the block;
    None when there are no slots to choose (`REPLY_SLOTS=0`) or none could be."""
    slots = settings.REPLY_SLOTS
    if not slots:
        yield None
        return
    prefix = _prefix()
    client = shared_redis()
    try:
        slot = int(
            client.eval(
                _LEASE,
                2,
                f"{prefix}:owners",
                f"{prefix}:used",
                str(conversation_id),
                str(slots),
                f"{prefix}:busy:",
                str(BUSY_SECONDS),
            )
        )
    except redis.RedisError as exc:
        logger.warning("could not choose a model slot (the server chooses): %s", exc)
        yield None
        return
    if slot < 0:
        yield None  # every slot is leased: more replies at once than slots
        return
    try:
        yield slot
    finally:
        try:
            pipe = client.pipeline()
            pipe.delete(f"{prefix}:busy:{slot}")
            pipe.zadd(f"{prefix}:used", {str(slot): time.time()})
            pipe.execute()
        except redis.RedisError as exc:
            logger.warning("could not release model slot %s: %s", slot, exc)


@contextmanager
def slot_hold(slot: int) -> Iterator[bool]:
    """Keep slot `slot` from the replies for the block, as a reply's lease does, when no reply
    holds it: True then; False when one does or Redis cannot say (then leave the slot alone)."""
    key = f"{_prefix()}:busy:{slot}"
    client = shared_redis()
    try:
        held = bool(client.set(key, "hold", nx=True, ex=BUSY_SECONDS))
    except redis.RedisError as exc:
        logger.warning("could not hold model slot %s: %s", slot, exc)
        held = False
    try:
        yield held
    finally:
        if held:
            try:
                client.delete(key)
            except redis.RedisError as exc:
                logger.warning("could not release model slot %s: %s", slot, exc)
