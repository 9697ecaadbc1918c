"""Receiving messages when the broker is down, and requeueing what was lost."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from leads.models import Message
from leads.services.conversations import conversation_resume_or_start
from leads.services.messages import ReplyNotQueued, message_receive, replies_requeue
from salesbot.embedded_redis import EmbeddedRedis

pytestmark = pytest.mark.django_db(transaction=True)


def _queued(server: EmbeddedRedis, task: str = "leads.tasks.reply_generate_task") -> int:
    """How many `task` messages wait in the queue (each message also queues its extraction)."""
    queue = "salesbot.extraction" if task.endswith("lead_extract_task") else "salesbot"
    raw = redis.Redis.from_url(server.url).lrange(queue, 0, -1)
    return sum(json.loads(item)["headers"]["task"] == task for item in raw)


@pytest.fixture
def conversation(demo_site):
    return conversation_resume_or_start(site=demo_site, visitor_token=None)


def test_a_message_is_stored_even_when_its_reply_cannot_be_queued(broker, conversation):
    client_id = uuid.uuid4()
    broker.stop()
    with pytest.raises(ReplyNotQueued) as info:
        message_receive(conversation=conversation, text="Hello?", client_id=client_id)
    assert Message.objects.get(client_id=client_id) == info.value.message

    broker.start()
    again = message_receive(conversation=conversation, text="Hello?", client_id=client_id)
    assert again == info.value.message
    assert _queued(broker) == 1
    assert _queued(broker, "leads.tasks.lead_extract_task") == 1
    assert Message.objects.filter(client_id=client_id).count() == 1


def test_a_resend_does_not_queue_a_message_whose_reply_is_done(broker, conversation):
    client_id = uuid.uuid4()
    message = message_receive(conversation=conversation, text="Hi", client_id=client_id)
    Message.objects.create(
        conversation=conversation, role="assistant", text="Hello!", in_reply_to=message
    )
    message_receive(conversation=conversation, text="Hi", client_id=client_id)
    assert _queued(broker) == 1  # only the first


def test_requeue_finds_messages_left_without_a_reply(broker, conversation):
    lost = message_receive(conversation=conversation, text="Lost", client_id=uuid.uuid4())
    answered = message_receive(conversation=conversation, text="Fine", client_id=uuid.uuid4())
    Message.objects.create(
        conversation=conversation, role="assistant", text="Yes", in_reply_to=answered
    )
    fresh = message_receive(conversation=conversation, text="Just now", client_id=uuid.uuid4())
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Message.objects.filter(id__in=[lost.id, answered.id]).update(created=an_hour_ago)
    redis.Redis.from_url(broker.url).delete("salesbot")

    count = replies_requeue(older_than=timedelta(minutes=1), within=timedelta(days=1))
    assert count == 1  # not the answered one, not the one still in flight
    assert fresh.id not in (lost.id, answered.id)
