"""The chat sockets this process holds, their leases (leads/services/throttle.py) renewed
together: one Redis round trip every half lease for all of them. Renewed one by one, 20,000
open sockets made 330 calls a second before anyone said anything (docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
import logging

from leads.consumers import calls
from leads.services.throttle import SOCKET_LEASE_SECONDS

logger = logging.getLogger(__name__)


class SocketLeases:
    def __init__(self) -> None:
        self._held: dict[str, tuple[int, str]] = {}  # channel: (site id, address)
        self._task: asyncio.Task[None] | None = None

    def hold(self, *, channel: str, site_id: int, address: str) -> None:
        """Keep renewing the lease of an open socket, from this event loop."""
        self._held[channel] = (site_id, address)
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._renew())

    def release(self, channel: str) -> None:
        self._held.pop(channel, None)

    async def _renew(self) -> None:
        while self._held:  # ends with the last socket; the next one starts it again
            await asyncio.sleep(SOCKET_LEASE_SECONDS / 2)
            leases = [(site, address, channel) for channel, (site, address) in self._held.items()]
            try:
                await calls.sockets_renew(leases=leases)
            except Exception:  # a bug here must not stop the renewing of the next round
                logger.exception("renewing %d socket leases failed", len(leases))


socket_leases = SocketLeases()
