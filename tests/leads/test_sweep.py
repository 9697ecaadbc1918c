"""Nothing accepted is lost: the sweep queues again, from the database, the replies, extractions
and notifications whose tasks vanished; hand-offs go on a queue of their own and have a
deadline. Queues are read in a real broker (Redis)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from leads import dispatch
from leads.models import Conversation, Lead, Message, Notification, Site
from leads.services.conversations import conversation_resume_or_start
from leads.services.extraction import message_facts_extract
from leads.services.knowledge import faq_entry_save, passages_embed
from leads.services.leads import lead_erase
from leads.services.notifications import notification_send
from leads.services.sweep import lost_work_requeue
from leads.tasks import sweep_task
from llm.backends.fake import FakeLLM
from salesbot.celery import app as celery_app
from salesbot.embedded_redis import EmbeddedRedis
from tests.leads.test_dispatch import _args, _messages

pytestmark = pytest.mark.django_db


@pytest.fixture
def hybrid(settings):  # type: ignore[no-untyped-def]
    settings.EXTRACTION_EXTRACTOR = "hybrid"


def _visitor_message(site: Site, *, age: timedelta, text: str = "hello") -> Message:
    """A visitor message stored `age` ago, its tasks never run (written here, not received)."""
    conversation = conversation_resume_or_start(site=site, visitor_token=None)
    message = Message.objects.create(
        conversation=conversation, role=Message.Role.VISITOR, text=text, client_id=uuid.uuid4()
    )
    Message.objects.filter(id=message.id).update(created=timezone.now() - age)
    return message


def _queued(broker: EmbeddedRedis, queue: str, task: str) -> list[int]:
    return [_args(m)[0] for m in _messages(broker, queue) if m["headers"]["task"] == task]


def test_an_unanswered_message_is_queued_again_once_it_is_stale(site, broker):
    stale = _visitor_message(site, age=timedelta(minutes=10))
    _visitor_message(site, age=timedelta(seconds=30))  # its task may still be on the way
    assert lost_work_requeue().replies == 1
    queued = _queued(broker, settings.CELERY_TASK_DEFAULT_QUEUE, dispatch.REPLY_GENERATE)
    assert queued == [stale.id]


def test_an_erased_conversations_messages_are_never_queued_again(site, broker):
    message = _visitor_message(site, age=timedelta(minutes=10))
    lead = Lead.objects.create(
        site=site,
        visitor_id=message.conversation.visitor_id,
        conversation_id=message.conversation_id,
    )
    lead_erase(lead=lead, by=None)
    assert lost_work_requeue().replies == 0


def test_an_extraction_never_finished_is_queued_again_at_most_three_times(site, broker, hybrid):
    lost = _visitor_message(site, age=timedelta(minutes=10))
    tried = _visitor_message(site, age=timedelta(minutes=10))
    Message.objects.filter(id=tried.id).update(extraction_attempts=3)
    assert lost_work_requeue().extractions == 1
    assert _queued(broker, settings.EXTRACTION_QUEUE, dispatch.LEAD_EXTRACT) == [lost.id]


def test_a_finished_extraction_is_left_alone(site, broker, hybrid):
    message = _visitor_message(site, age=timedelta(minutes=10), text="I'm Ana from Initech")
    message_facts_extract(message_id=message.id, model=FakeLLM(replies=["{}"]))
    stored = Message.objects.get(id=message.id)
    assert stored.extracted_at is not None and stored.extraction_attempts == 1
    assert lost_work_requeue().extractions == 0


def test_with_the_rules_alone_no_extraction_is_swept(site, broker, settings):
    settings.EXTRACTION_EXTRACTOR = "rules"
    _visitor_message(site, age=timedelta(minutes=10))
    assert lost_work_requeue().extractions == 0


def _notification(site: Site, **fields: object) -> Notification:
    message = _visitor_message(site, age=timedelta(minutes=1))
    lead = Lead.objects.create(
        site=site,
        visitor_id=message.conversation.visitor_id,
        conversation_id=message.conversation_id,
    )
    notification = Notification.objects.create(
        lead=lead, channel="email", target="sales@acme.example"
    )
    Notification.objects.filter(id=notification.id).update(**fields)
    notification.refresh_from_db()
    return notification


def test_a_notification_whose_task_was_lost_is_queued_again_on_its_own_queue(site, broker):
    now = timezone.now()
    never_tried = _notification(site, created=now - timedelta(minutes=10))
    retry_lost = _notification(
        site,
        created=now - timedelta(hours=2),
        attempts=2,
        attempted_at=now - timedelta(seconds=settings.NOTIFY_RETRY_BACKOFF_MAX + 600),
    )
    _notification(site, created=now - timedelta(minutes=10), attempts=1, attempted_at=now)
    _notification(site, created=now - timedelta(seconds=30))  # just made: its task is on the way
    _notification(site, created=now - timedelta(hours=1), status="sent")
    assert lost_work_requeue().notifications == 2
    queued = _queued(broker, settings.NOTIFICATIONS_QUEUE, dispatch.NOTIFICATION_SEND)
    assert sorted(queued) == sorted([never_tried.id, retry_lost.id])
    assert _messages(broker, settings.CELERY_TASK_DEFAULT_QUEUE) == []  # not the replies' queue


def test_a_notification_past_its_deadline_fails_for_good(site, settings):
    late = _notification(
        site, created=timezone.now() - timedelta(hours=settings.NOTIFY_DEADLINE_HOURS, minutes=1)
    )
    with pytest.raises(Exception, match="not delivered within 24 hours"):
        notification_send(notification_id=late.id)
    late.refresh_from_db()
    assert late.status == "failed" and "NOTIFY_DEADLINE_HOURS" in late.last_error


def test_the_sweep_runs_every_minute_under_beat_and_survives_a_broker_outage(site, broker):
    schedule = celery_app.conf.beat_schedule["sweep"]
    assert schedule["task"] == sweep_task.name and schedule["schedule"] == 60.0
    _visitor_message(site, age=timedelta(minutes=10))
    broker.stop()
    sweep_task()  # logs and waits for the next one; nothing raised into Celery
    assert Conversation.objects.count() == 1


def test_passages_are_queued_for_embedding_and_the_sweep_queues_them_again(
    site, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        faq_entry_save(site=site, question="Is there a free trial?", answer="Yes, 14 days.")
    queued = lambda: _queued(broker, settings.EXTRACTION_QUEUE, dispatch.KNOWLEDGE_EMBED)  # noqa: E731
    assert queued() == [site.id]  # once the write was committed
    # That task lost: the passage is still without a vector.
    assert lost_work_requeue().knowledge == 1
    assert queued() == [site.id, site.id]


def test_knowledge_embedded_before_its_commit_queues_no_task(
    site, broker, embedder, django_capture_on_commit_callbacks
):
    """As `manage.py ensure_demo` does, before any worker or broker runs."""
    with django_capture_on_commit_callbacks(execute=True):
        faq_entry_save(site=site, question="Is there a free trial?", answer="Yes, 14 days.")
        passages_embed(site_id=site.id, embedder=embedder)
    assert _queued(broker, settings.EXTRACTION_QUEUE, dispatch.KNOWLEDGE_EMBED) == []
    assert lost_work_requeue().knowledge == 0
