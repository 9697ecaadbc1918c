"""The WebSocket consumers' way to the ORM: channels' `database_sync_to_async`, with its types.

channels ships no type hints, so its decorator would make every helper it wraps untyped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from channels.db import database_sync_to_async

P = ParamSpec("P")
R = TypeVar("R")


def database_call(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`function` run in the thread channels keeps for ORM work (stale connections closed)."""
    wrapped: Callable[P, Awaitable[R]] = database_sync_to_async(function)
    return wrapped
