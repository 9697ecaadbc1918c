"""Counting what the chat's limits count (leads/limits.py), in Redis, shared by every web and
worker process: message and conversation rates through the `limits` library (sliding windows),
a Site's model tokens per day (a fixed window of a day, charged by each model call), and the
sockets an address holds open (a sorted set of leases, so a web process that dies leaves none
behind for longer than a lease).

When Redis cannot be reached the limits let everything through (and log it): the broker lives
there too, so the chat is answering "unavailable" already.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from functools import cache

import redis
from django.conf import settings
from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter
from redis.commands.core import Script

from leads.errors import QuotaExceeded, RateLimited
from leads.limits import ChatLimits
from leads.services.priority import shared_redis

logger = logging.getLogger(__name__)

# A socket's lease; its web process renews it every half of it while the socket is open
# (leads/consumers/leases.py), so a process that dies leaves its leases to lapse.
SOCKET_LEASE_SECONDS = 120

# KEYS: the address's sockets (sorted set: channel -> lease end). ARGV: channel, now, lease end,
# limit. Drops lapsed leases, then takes one if the address holds fewer than `limit`: 1, or 0.
_SOCKET_OPEN = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[3] - ARGV[2]) + 1)
return 1
"""


def _prefix() -> str:
    # Per deployment, as the queues are.
    return f"{settings.CELERY_TASK_DEFAULT_QUEUE}:limits"


@cache
def _limiters(
    url: str, prefix: str
) -> tuple[SlidingWindowCounterRateLimiter, FixedWindowRateLimiter]:
    pool = shared_redis().connection_pool
    storage = RedisStorage("redis://", connection_pool=pool, key_prefix=prefix)
    return SlidingWindowCounterRateLimiter(storage), FixedWindowRateLimiter(storage)


def _rates() -> SlidingWindowCounterRateLimiter:
    return _limiters(settings.REDIS_URL, _prefix())[0]


def _daily() -> FixedWindowRateLimiter:
    return _limiters(settings.REDIS_URL, _prefix())[1]


def _wait(limiter: SlidingWindowCounterRateLimiter, item: RateLimitItem, *keys: str) -> int:
    """Seconds until `item` lets one more through for `keys`."""
    reset = limiter.get_window_stats(item, *keys).reset_time
    return max(1, math.ceil(reset - time.time()))


def message_allowed(*, site_id: int, limits: ChatLimits, visitor_id: int, address: str) -> None:
    """Count one visitor message; `RateLimited` when the visitor or the address sends faster
    than the Site allows (nothing is counted then)."""
    rates = _rates()
    checks = [
        (RateLimitItemPerMinute(limits.messages_per_minute), "visitor", str(visitor_id)),
        (RateLimitItemPerMinute(limits.messages_per_minute_per_ip), "ip", address),
    ]
    try:
        for item, kind, key in checks:
            if not rates.test(item, "messages", kind, str(site_id), key):
                wait = _wait(rates, item, "messages", kind, str(site_id), key)
                raise RateLimited(
                    f"You are sending messages faster than this chat allows; wait {wait} "
                    "seconds, then send it again.",
                    retry_after=wait,
                )
        for item, kind, key in checks:
            rates.hit(item, "messages", kind, str(site_id), key)
    except redis.RedisError as exc:
        logger.warning("message rate not counted (Redis): %s", exc)


def conversation_allowed(*, site_id: int, limits: ChatLimits, address: str) -> None:
    """Count one new conversation from `address`; `RateLimited` past the Site's hourly cap."""
    rates = _rates()
    item = RateLimitItemPerHour(limits.conversations_per_hour_per_ip)
    keys = ("conversations", str(site_id), address)
    try:
        if not rates.hit(item, *keys):
            wait = _wait(rates, item, *keys)
            raise RateLimited(
                f"Too many new chats from your network; try again in {math.ceil(wait / 60)} "
                "minutes.",
                retry_after=wait,
            )
    except redis.RedisError as exc:
        logger.warning("conversation rate not counted (Redis): %s", exc)


def _tokens_item(limits: ChatLimits) -> RateLimitItem:
    return RateLimitItemPerDay(limits.tokens_per_day)


def tokens_allowed(*, site_id: int, limits: ChatLimits) -> None:
    """`QuotaExceeded` once the Site's conversations have used its model tokens for the day."""
    if not limits.tokens_per_day:
        return
    try:
        left = _daily().get_window_stats(_tokens_item(limits), "tokens", str(site_id)).remaining
    except redis.RedisError as exc:
        logger.warning("token quota not read (Redis): %s", exc)
        return
    if left <= 0:
        raise QuotaExceeded(
            "The assistant has answered all it can for today; please come back tomorrow or "
            "leave your email and the team will reply."
        )


def tokens_spend(*, site_id: int, limits: ChatLimits, tokens: int) -> None:
    """Charge `tokens` the models used for one of the Site's conversations to its day."""
    if not limits.tokens_per_day or tokens <= 0:
        return
    try:
        _daily().hit(_tokens_item(limits), "tokens", str(site_id), cost=tokens)
    except redis.RedisError as exc:
        logger.warning("%d tokens of site %s not counted (Redis): %s", tokens, site_id, exc)


def _sockets_key(site_id: int, address: str) -> str:
    return f"{_prefix()}:sockets:{site_id}:{address}"


@cache
def _socket_open_script(url: str) -> Script:
    """The lease script of the Redis at `url`, sent by its digest (EVALSHA) once Redis has it."""
    return shared_redis().register_script(_SOCKET_OPEN)


def socket_open(*, site_id: int, limits: ChatLimits, address: str, channel: str) -> bool:
    """Lease a socket for `address`; False when it holds the Site's limit already."""
    now = time.time()
    try:
        taken = _socket_open_script(settings.REDIS_URL)(
            keys=[_sockets_key(site_id, address)],
            args=[channel, now, now + SOCKET_LEASE_SECONDS, limits.sockets_per_ip],
        )
    except redis.RedisError as exc:
        logger.warning("socket not counted (Redis): %s", exc)
        return True
    return bool(taken)


def sockets_renew(*, leases: Sequence[tuple[int, str, str]]) -> None:
    """Extend the leases of open sockets, (site id, address, channel) each, in one round trip:
    a web process renews all of its sockets' together. A lease already given back stays so."""
    if not leases:
        return
    until = time.time() + SOCKET_LEASE_SECONDS
    try:
        pipe = shared_redis().pipeline(transaction=False)
        keys = set()
        for site_id, address, channel in leases:
            key = _sockets_key(site_id, address)
            pipe.zadd(key, {channel: until}, xx=True)
            keys.add(key)
        for key in keys:
            pipe.expire(key, SOCKET_LEASE_SECONDS + 1)
        pipe.execute()
    except redis.RedisError as exc:
        logger.warning("%d socket leases not renewed (Redis): %s", len(leases), exc)


def socket_close(*, site_id: int, address: str, channel: str) -> None:
    """Give the socket's lease back."""
    try:
        shared_redis().zrem(_sockets_key(site_id, address), channel)
    except redis.RedisError as exc:
        logger.warning("socket lease not returned (Redis): %s", exc)
