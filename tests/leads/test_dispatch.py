"""Queueing by task name (leads/dispatch.py): every name is a task the workers know and every
task is named there, each lands on its queue in the real broker, a broker that is down is
`QueueUnavailable`, and an expiry travels with the message."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from celery import Task
from django.conf import settings

import leads.tasks
from leads import dispatch
from leads.errors import QueueUnavailable
from salesbot.celery import app as celery_app
from salesbot.embedded_redis import EmbeddedRedis


def _messages(server: EmbeddedRedis, queue: str) -> list[dict[str, Any]]:
    """The task messages waiting in `queue` (Redis keeps each queue as a list of that name)."""
    return [json.loads(raw) for raw in redis.Redis.from_url(server.url).lrange(queue, 0, -1)]


def _args(message: dict[str, Any]) -> list[Any]:
    args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    return list(args)


@pytest.mark.parametrize("name", dispatch.TASKS)
def test_every_dispatched_name_is_a_registered_task(name: str):
    assert name in celery_app.tasks


def test_every_task_of_leads_tasks_is_dispatched_by_name():
    defined = {obj.name for obj in vars(leads.tasks).values() if isinstance(obj, Task)}
    assert defined == set(dispatch.TASKS)


def test_the_extraction_lands_on_the_extraction_queue(broker: EmbeddedRedis):
    dispatch.enqueue(dispatch.LEAD_EXTRACT, 7)
    [message] = _messages(broker, settings.EXTRACTION_QUEUE)
    assert message["headers"]["task"] == dispatch.LEAD_EXTRACT
    assert _args(message) == [7]
    assert _messages(broker, settings.CELERY_TASK_DEFAULT_QUEUE) == []


def test_a_reply_lands_on_the_default_queue(broker: EmbeddedRedis):
    dispatch.enqueue(dispatch.REPLY_GENERATE, 7)
    [message] = _messages(broker, settings.CELERY_TASK_DEFAULT_QUEUE)
    assert message["headers"]["task"] == dispatch.REPLY_GENERATE
    assert _args(message) == [7]
    assert _messages(broker, settings.EXTRACTION_QUEUE) == []


def test_a_broker_that_is_down_is_queue_unavailable(broker: EmbeddedRedis):
    broker.stop()
    with pytest.raises(QueueUnavailable, match="cannot take work"):
        dispatch.enqueue(dispatch.REPLY_GENERATE, 7)


def test_the_expiry_reaches_the_message_headers(broker: EmbeddedRedis):
    before = datetime.now(UTC)
    dispatch.enqueue(dispatch.REPLY_SUGGEST, 3, "r1", expires=120)
    after = datetime.now(UTC)
    [message] = _messages(broker, settings.CELERY_TASK_DEFAULT_QUEUE)
    expires = datetime.fromisoformat(message["headers"]["expires"])
    assert before + timedelta(seconds=120) <= expires <= after + timedelta(seconds=120)
    assert _args(message) == [3, "r1"]


def test_without_an_expiry_the_message_does_not_expire(broker: EmbeddedRedis):
    dispatch.enqueue(dispatch.REPLY_GENERATE, 7)
    [message] = _messages(broker, settings.CELERY_TASK_DEFAULT_QUEUE)
    assert message["headers"]["expires"] is None


def test_a_queued_task_carries_when_it_was_queued(broker: EmbeddedRedis):
    before = datetime.now(UTC).timestamp()
    dispatch.enqueue(dispatch.REPLY_GENERATE, 7)
    (message,) = _messages(broker, settings.CELERY_TASK_DEFAULT_QUEUE)
    # The reply task logs its wait in the queue from this header (bench/reply_turns.py reads it).
    assert before <= message["headers"]["enqueued"] <= datetime.now(UTC).timestamp()


def test_the_broker_connection_is_opened_before_the_first_task(broker: EmbeddedRedis, caplog):
    dispatch.queue_warm_up()
    assert "could not reach" not in caplog.text
    clients = redis.Redis.from_url(broker.url).client_list()
    assert len(clients) >= 2  # ours, and the producer's connection, open before any task
    # Each task's queue is declared too: the first send does no more than the next ones.
    keys = {key.decode() for key in redis.Redis.from_url(broker.url).keys("_kombu.binding.*")}
    queues = {celery_app.amqp.router.route({}, task)["queue"].name for task in dispatch.TASKS}
    assert {f"_kombu.binding.{queue}" for queue in queues} <= keys
    assert len(queues) == 3  # the replies', the extraction's and the hand-offs'


def test_a_broker_that_is_down_at_start_is_only_a_warning(broker: EmbeddedRedis, caplog):
    broker.stop()
    dispatch.queue_warm_up()
    assert "could not reach the task queue at start" in caplog.text
