"""Rows the dashboard tests build again and again: staff users, leads, messages."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model

from leads.models import Conversation, Lead, Message, Site, Visitor


def staff_user(username: str, *, site: Site | None = None, staff: bool = True) -> Any:
    """A user (staff unless told otherwise), on `site`'s team if given."""
    user = get_user_model().objects.create_user(username=username, is_staff=staff)
    if site is not None:
        site.team.add(user)
    return user


def lead_create(site: Site, **fields: object) -> Lead:
    """A lead with a visitor and a conversation of its own."""
    visitor = Visitor.objects.create(site=site, token=uuid.uuid4().hex)
    conversation = Conversation.objects.create(site=site, visitor=visitor)
    return Lead.objects.create(site=site, visitor=visitor, conversation=conversation, **fields)


def message_add(conversation: Conversation, text: str, **fields: object) -> Message:
    """A message in `conversation`, the visitor's unless `role` says otherwise."""
    fields.setdefault("role", Message.Role.VISITOR)
    return Message.objects.create(conversation=conversation, text=text, **fields)
