"""The Sites chat sockets connect to, kept per process for CHAT_SITE_CACHE_SECONDS.

Every socket's connect needs its Site (origins, limits): read from the database each time, it
was a fifth of the serial ORM work of a reconnect storm (docs/benchmarks.md). A Site saved or
deleted in this process is forgotten at once; a change made by another process is seen within
the time-out. Unknown keys are kept too (as None), so that a script knocking with made-up keys
costs no query each; the sockets of a burst that find a key missing wait for one read of it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from leads.consumers import calls
from leads.limits import ChatLimits
from leads.models import Site

Found = tuple[Site, ChatLimits] | None
MAX_KEYS = 10_000  # a bound on what made-up keys can make a process hold


class SiteCache:
    def __init__(self) -> None:
        self._found: dict[str, tuple[float, Found]] = {}  # key: (read at, what was read)
        self._reading: dict[str, asyncio.Future[Found]] = {}
        self._changes = 0  # Sites saved or deleted: a read begun before one is not kept

    async def get(self, key: str) -> Found:
        """The Site with `key` and its limits, or None: from memory while fresh."""
        seconds = settings.CHAT_SITE_CACHE_SECONDS
        kept = self._found.get(key)
        if kept is not None and time.monotonic() - kept[0] < seconds:
            return kept[1]
        if seconds <= 0:
            return await calls.site_with_limits(key)
        reading = self._reading.get(key)
        if reading is None:
            reading = asyncio.ensure_future(self._read(key))
            self._reading[key] = reading
            reading.add_done_callback(lambda _: self._reading.pop(key, None))
        return await asyncio.shield(reading)  # one socket giving up does not cancel the read

    async def _read(self, key: str) -> Found:
        read_at, changes = time.monotonic(), self._changes
        found = await calls.site_with_limits(key)
        if changes == self._changes:
            if len(self._found) >= MAX_KEYS:
                self._found.clear()
            self._found[key] = (read_at, found)
        return found

    def forget(self, site: Site) -> None:
        """Forget `site`, under its key and any key it had before."""
        self._changes += 1
        for key, (_, found) in list(self._found.items()):
            if key == site.key or (found is not None and found[0].id == site.id):
                self._found.pop(key, None)  # saves come from other threads too

    def clear(self) -> None:
        self._changes += 1
        self._found.clear()
        self._reading.clear()


site_cache = SiteCache()


def _site_changed(sender: Any, instance: Site, **kwargs: Any) -> None:
    site_cache.forget(instance)


post_save.connect(_site_changed, sender=Site, dispatch_uid="leads.consumers.sites")
post_delete.connect(_site_changed, sender=Site, dispatch_uid="leads.consumers.sites.delete")
