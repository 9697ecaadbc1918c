"""Rows the dashboard tests build again and again: staff users, leads, messages."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model

import llm
from leads.models import Conversation, Lead, Message, Site, Visitor
from leads.services.conversations import conversation_resume_or_start
from leads.services.messages import message_receive
from leads.services.replies import reply_generate


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


def reply_to_new_conversation(site: Site, model: llm.BaseLLM, text: str = "Hello") -> Message:
    """A visitor's first message on `site` in a new conversation, answered by `model`."""
    conversation = conversation_resume_or_start(site=site, visitor_token=None)
    message = message_receive(conversation=conversation, text=text, client_id=uuid.uuid4())
    reply = reply_generate(message_id=message.id, task_id=str(uuid.uuid4()), model=model)
    assert reply is not None, "the reply was claimed by another task"
    return reply
