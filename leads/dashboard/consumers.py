"""The dashboard's live feed: tells a rep's open pages what changed, so that htmx refreshes them.

Frames out: `lead` and `message` (ids only: the page fetches what it may see through the
views), `sites` when the rep joined or left a site's team (the page refreshes), and for a watched
conversation the chat's own frames (typing, delta, reply, agent) and the rep's `suggestion`s.
Frames in: `{"type": "watch", "conversation": id}`.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model

from leads.asyncdb import database_call
from leads.models import Conversation
from leads.selectors.access import sites_visible, user_is_staff
from leads.services.broadcast import (
    conversation_group,
    staff_conversation_group,
    staff_group,
    staff_user_group,
)

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORISED = 4401  # no session, or not staff: log in again


@database_call
def _site_ids(user: Any) -> list[int]:
    return list(sites_visible(user=user).values_list("id", flat=True))


@database_call
def _user_reload(user: Any) -> Any | None:
    """The user as the database has them now (None: deleted)."""
    return get_user_model()._default_manager.filter(pk=user.pk).first()


@database_call
def _may_watch(user: Any, conversation_id: int) -> bool:
    return Conversation.objects.filter(
        id=conversation_id, site__in=sites_visible(user=user)
    ).exists()


class DashboardConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels ships no type hints
    groups_joined: list[str]
    site_groups: set[str]
    watched: int | None = None

    async def connect(self) -> None:
        self.groups_joined, self.site_groups = [], set()
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user_is_staff(user):
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        self.user = user
        await self._join(staff_user_group(user.pk))
        await self._sites_join()
        await self.send_json({"type": "ready"})

    async def _sites_join(self) -> None:
        """Be in the groups of exactly the sites the rep sees now."""
        wanted = {staff_group(site_id) for site_id in await _site_ids(self.user)}
        for group in self.site_groups - wanted:
            await self._leave(group)
        for group in wanted - self.site_groups:
            await self._join(group)
        self.site_groups = wanted

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
        # JSON true is a Python int (1): an id must be a number.
        if (
            isinstance(conversation_id, bool)
            or not isinstance(conversation_id, int)
            or not await _may_watch(self.user, conversation_id)
        ):
            await self.send_json(
                {
                    "type": "error",
                    "code": "not_found",
                    "detail": "No such conversation, or not on a site you are on the team of.",
                }
            )
            return
        await self._unwatch()
        self.watched = conversation_id
        await self._join(conversation_group(conversation_id))
        await self._join(staff_conversation_group(conversation_id))
        await self.send_json({"type": "watching", "conversation": conversation_id})

    async def _unwatch(self) -> None:
        if self.watched is not None:
            await self._leave(conversation_group(self.watched))
            await self._leave(staff_conversation_group(self.watched))
            self.watched = None

    async def chat_frame(self, event: dict[str, Any]) -> None:
        await self.send_json(event["frame"])

    async def staff_sites(self, event: dict[str, Any]) -> None:
        """The rep joined or left a team, or their access changed: follow the sites they see
        now and tell the page, or close if they may no longer use the dashboard."""
        user = await _user_reload(self.user)
        if user is None or not user_is_staff(user):
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        self.user = user
        await self._sites_join()
        if self.watched is not None and not await _may_watch(self.user, self.watched):
            await self._unwatch()
        await self.send_json(event["frame"])
