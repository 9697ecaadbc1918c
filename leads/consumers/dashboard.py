"""The dashboard's live feed: tells a rep's open pages what changed, so that htmx refreshes them.

Frames out: `lead` and `message` (ids only: the page fetches what it may see through the
views), and for a watched conversation the chat's own frames (typing, delta, reply, agent) and
the rep's `suggestion`s. Frames in: `{"type": "watch", "conversation": id}`.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from leads.models import Conversation
from leads.selectors.dashboard import sites_visible, user_is_staff
from leads.services.broadcast import conversation_group, staff_conversation_group, staff_group

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORISED = 4401  # no session, or not staff: log in again


@database_sync_to_async
def _site_ids(user: Any) -> list[int]:
    return list(sites_visible(user=user).values_list("id", flat=True))


@database_sync_to_async
def _may_watch(user: Any, conversation_id: int) -> bool:
    return Conversation.objects.filter(
        id=conversation_id, site__in=sites_visible(user=user)
    ).exists()


class DashboardConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    groups_joined: list[str]
    watched: int | None = None

    async def connect(self) -> None:
        self.groups_joined = []
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user_is_staff(user):
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        self.user = user
        for site_id in await _site_ids(user):
            await self._join(staff_group(site_id))
        await self.send_json({"type": "ready"})

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)

    async def _leave(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined.remove(group)

    async def disconnect(self, code: int) -> None:
        for group in list(self.groups_joined):
            await self._leave(group)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not hasattr(self, "user"):
            return
        kind = content.get("type") if isinstance(content, dict) else None
        if kind != "watch":
            await self.send_json(
                {"type": "error", "code": "unknown_type", "detail": 'Send {"type": "watch"}.'}
            )
            return
        conversation_id = content.get("conversation")
        if not isinstance(conversation_id, int) or not await _may_watch(self.user, conversation_id):
            await self.send_json(
                {
                    "type": "error",
                    "code": "not_found",
                    "detail": "No such conversation, or not on a site you are on the team of.",
                }
            )
            return
        if self.watched is not None:
            await self._leave(conversation_group(self.watched))
            await self._leave(staff_conversation_group(self.watched))
        self.watched = conversation_id
        await self._join(conversation_group(conversation_id))
        await self._join(staff_conversation_group(conversation_id))
        await self.send_json({"type": "watching", "conversation": conversation_id})

    async def chat_frame(self, event: dict[str, Any]) -> None:
        await self.send_json(event["frame"])
