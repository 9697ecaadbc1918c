"""Queueing work for the workers: by task name, with one answer to a broker that is down.

Services queue tasks through here and never import `leads.tasks`: tasks call services, so a
service that imported a task would close an import circle. A name that no task carries is
caught by the tests (`tests/leads/test_dispatch.py`), not at run time.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import current_app
from kombu.exceptions import OperationalError

from leads.errors import QueueUnavailable

logger = logging.getLogger(__name__)

# The tasks of leads/tasks.py, by the names their decorators register.
REPLY_GENERATE = "leads.tasks.reply_generate_task"
LEAD_EXTRACT = "leads.tasks.lead_extract_task"
REPLY_SUGGEST = "leads.tasks.reply_suggest_task"
NOTIFICATION_SEND = "leads.tasks.notification_send_task"
REPLY_WARM_UP = "leads.tasks.reply_warm_up_task"
KNOWLEDGE_EMBED = "leads.tasks.knowledge_embed_task"
# Sent by Celery beat (CELERY_BEAT_SCHEDULE).
PURGE_LEADS = "leads.tasks.purge_leads_task"
SWEEP = "leads.tasks.sweep_task"
TASKS = (
    REPLY_GENERATE,
    LEAD_EXTRACT,
    REPLY_SUGGEST,
    NOTIFICATION_SEND,
    REPLY_WARM_UP,
    KNOWLEDGE_EMBED,
    PURGE_LEADS,
    SWEEP,
)


def enqueue(task: str, *args: Any, expires: float | None = None) -> None:
    """Queue `task` with `args` (ids: tasks load what they need); `QueueUnavailable` if the
    broker cannot take it. Routing to a task's queue follows CELERY_TASK_ROUTES by name."""
    try:
        # When it was queued, so that the worker can tell how long it waited (leads/tasks.py).
        headers = {"enqueued": time.time()}
        current_app.send_task(task, args=args, expires=expires, headers=headers)
    except OperationalError as exc:
        logger.error("could not queue %s%s: %s", task.rsplit(".", 1)[-1], args, exc)
        raise QueueUnavailable(f"the task queue cannot take work just now ({exc})") from exc


def queue_warm_up() -> None:
    """Connect to the broker now, so that the first visitor's reply is not queued behind the
    connection being made (the queue's p95 was its first turn's). Best effort: a broker that is
    not up yet is connected to when the first task is queued.

    And what Celery and kombu do on the first `send_task` (50 ms, measured, with the
    connection open): load the result backend (disabled, but found through the installed
    packages' entry points), build the message sender, and declare each task's queue.
    """
    app = current_app
    app.backend  # noqa: B018 - these are built on first use
    app.amqp.send_task_message  # noqa: B018
    try:
        with app.producer_pool.acquire(block=True, timeout=2) as producer:
            if producer.connection is not None:
                producer.connection.ensure_connection(max_retries=1)
            producer.channel  # noqa: B018 - the Redis transport connects as a channel opens
            for task in TASKS:
                queue = app.amqp.router.route({}, task)["queue"]
                producer.maybe_declare(queue)
    except (OperationalError, OSError) as exc:
        logger.warning("could not reach the task queue at start (it will be tried again): %s", exc)
