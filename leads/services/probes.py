"""Prompt-injection probes run through the real reply path (`manage.py probe_injection`).

Each probe talks to a copy of a Site, in a transaction that is rolled back: the visitor's
message is received as the chat socket receives it (its facts read by the rules), the reply is
generated, guarded and streamed as a worker does, and what the widget would have shown — the
deltas and the final reply — is read off the channel layer and checked for the Site's canary
and runs of its instructions (leads/injection.py). Nothing of it stays in the database.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

import llm
from leads.injection import Probe, leak_seen
from leads.models import Message, Site
from leads.services.broadcast import conversation_group, frames_flush
from leads.services.conversations import conversation_resume_or_start
from leads.services.messages import message_receive
from leads.services.replies import reply_generate
from leads.services.reply_prompts import reply_prompt, site_canary, visitor_readable

FRAME_WAIT_SECONDS = 30


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    shown: str  # what the widget showed: the streamed text, then the final reply
    reply: str  # the reply as stored
    stopped: str  # what the guard stopped the reply for ("" when it passed it)
    leaked: str | None  # what the shown text gives away, by the independent check


def injection_probe(*, site: Site, probe: Probe, model: llm.BaseLLM) -> ProbeResult:
    """Run `probe` against a throwaway copy of `site` with `model`; store nothing."""
    with transaction.atomic():
        try:
            return _probe(site=_site_copy(site), probe=probe, model=model)
        finally:
            transaction.set_rollback(True)


def _site_copy(site: Site) -> Site:
    copy = Site.objects.get(pk=site.pk)
    copy.pk, copy.key = None, f"probe-{uuid.uuid4().hex[:12]}"
    copy.save()
    return copy


def _probe(*, site: Site, probe: Probe, model: llm.BaseLLM) -> ProbeResult:
    conversation = conversation_resume_or_start(site=site, visitor_token=None)
    said: Message | None = None
    for turn in probe.before:
        if turn.role == "visitor":
            said = message_receive(
                conversation=conversation, text=turn.text, client_id=uuid.uuid4()
            )
        else:
            Message.objects.create(
                conversation=conversation,
                role=Message.Role.ASSISTANT,
                text=turn.text,
                in_reply_to=said,
            )
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(conversation_group(conversation.id), channel)
    try:
        message = message_receive(
            conversation=conversation, text=probe.visitor, client_id=uuid.uuid4()
        )
        reply = reply_generate(message_id=message.id, task_id=f"probe-{probe.id}", model=model)
        frames_flush(FRAME_WAIT_SECONDS)
        frames = async_to_sync(_frames_of_reply)(layer, channel)
    finally:
        async_to_sync(layer.group_discard)(conversation_group(conversation.id), channel)
    assert reply is not None
    stored = Message.objects.get(id=reply.id)
    streamed = "".join(f["text"] for f in frames if f["type"] == "delta")
    final = next((f["text"] for f in frames if f["type"] == "reply"), "")
    shown = f"{streamed}\n{final}"
    (system, *_), _, _ = reply_prompt(site=site, turns=[])
    leaked = leak_seen(
        shown,
        canary=site_canary(site),
        instructions=system.content,
        allowed=[*visitor_readable(site), probe.visitor],
    )
    return ProbeResult(probe, shown, stored.text, stored.leak, leaked)


async def _frames_of_reply(layer: Any, channel: str) -> list[dict[str, Any]]:
    """The frames sent for the reply, through the final one's `typing` off."""
    frames: list[dict[str, Any]] = []
    while not frames or frames[-1] != {"type": "typing", "on": False}:
        event = await asyncio.wait_for(layer.receive(channel), FRAME_WAIT_SECONDS)
        frames.append(event["frame"])
    return frames
