"""Celery tasks: take ids, call one service, safe to run twice. And the worker's start-up."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from datetime import timedelta
from typing import Any, get_args

from celery import Task, shared_task
from celery.signals import (
    task_prerun,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
)
from django.conf import settings
from django.db import InterfaceError, OperationalError
from prometheus_client import multiprocess

import llm
from leads.errors import QueueUnavailable
from leads.services.extraction import message_facts_extract
from leads.services.knowledge import passages_embed
from leads.services.messages import ReplyNotQueued, replies_requeue
from leads.services.model_calls import model_call_record
from leads.services.notifications import (
    NotificationFailed,
    notification_retry_delay,
    notification_send,
)
from leads.services.replies import reply_generate, reply_warm_up
from leads.services.retention import conversations_purge
from leads.services.suggestions import reply_suggest
from leads.services.summaries import conversation_summarise, conversation_summary_due
from leads.services.sweep import lost_work_requeue
from llm.types import ModelRole

logger = logging.getLogger(__name__)


@worker_init.connect
def _keep_model_calls(**_: Any) -> None:
    """Each model call a worker makes is stored for the metrics page (its pool processes
    inherit the listener)."""
    llm.metrics.listen(model_call_record)


@worker_init.connect
def _check_model_config(**_: Any) -> None:
    """Refuse to start a worker when no model of a role's chain can load (bad config, missing
    file, no GPU); name the ones that cannot when others can."""
    try:
        for role in get_args(ModelRole):
            for name, problem in llm.preflight_role(role):
                logger.warning("model %s of the %s chain cannot run here: %s", name, role, problem)
    except llm.LLMError as exc:
        logger.critical("the worker cannot start: %s", exc)
        print(f"salesbot worker: {exc}", file=sys.stderr)
        # SystemExit passes through Celery's signal dispatch (which logs Exceptions and goes on).
        raise SystemExit(1) from exc


@worker_process_init.connect
def _load_model(**_: Any) -> None:
    """Load the model when a worker process starts, so the first visitor does not wait for it."""
    try:
        # The chain's first model that loads here; with a router, each tier's.
        model = llm.get_llm().ready()
    except llm.LLMError as exc:
        logger.error("the model could not be loaded: %s", exc)
    else:
        logger.info("model %s loaded (%s)", model.name, model.backend)


@task_prerun.connect
def _model_settings_refresh(**_: Any) -> None:
    """Hot swap: a changed model settings file takes effect between tasks, so that a reply in
    flight ends on the model it began on (`llm.registry.refresh`)."""
    llm.registry.refresh()


@worker_process_shutdown.connect
def _metrics_process_gone(pid: int | None = None, **_: Any) -> None:
    """A pool process's Prometheus files stop counting as a live one's (multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid or os.getpid())  # type: ignore[no-untyped-call]  # no type hints


@worker_ready.connect
def _requeue_lost_replies(**_: Any) -> None:
    """Queue again the replies a broker outage or a dead worker left unanswered."""
    try:
        count = replies_requeue(older_than=timedelta(minutes=1), within=timedelta(days=1))
    except ReplyNotQueued:
        logger.exception("could not requeue unanswered messages")
        return
    if count:
        logger.info("queued %d unanswered message(s) again", count)


# A warm-up that gave way to a reply is tried again this many times, this far apart: the places
# it warmed stay warm, the ones it did not are done once the replies leave the model a moment.
WARM_UP_RETRIES = 10
WARM_UP_RETRY_SECONDS = 10


@worker_ready.connect
def _warm_reply_model(sender: Any = None, **_: Any) -> None:
    """Have the replies' worker evaluate Sites' system prompts before the first visitor comes."""
    amqp = getattr(getattr(sender, "app", None), "amqp", None)
    queues = amqp.queues.consume_from if amqp is not None else None
    if queues and settings.CELERY_TASK_DEFAULT_QUEUE in queues:
        # On the replies' queue, so that a process that holds the model (or leases its server's
        # slots) does it; stale once its retries would be over.
        reply_warm_up_task.apply_async(expires=WARM_UP_RETRIES * WARM_UP_RETRY_SECONDS * 2)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def reply_warm_up_task(self: Task[Any, Any]) -> None:
    """Evaluate Sites' system prompts where the reply model keeps prompts (safe to run twice:
    a place that holds a prompt is left alone)."""
    if reply_warm_up().gave_way and self.request.retries < WARM_UP_RETRIES:
        raise self.retry(countdown=WARM_UP_RETRY_SECONDS)


# A reply whose database went away mid-way is left "generating" under its task's id, which no
# other task may take over while its lease lasts (REPLY_LEASE_SECONDS; the sweep leaves it alone
# too): so the task itself tries again, with the same id, until the database is back.
DATABASE_RETRIES = 10
DATABASE_RETRY_MAX_SECONDS = 60


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=DATABASE_RETRIES)
def reply_generate_task(self: Task[Any, Any], message_id: int) -> None:
    """Generate and stream the assistant's reply to one visitor message; again, as the same
    task, after the database could not be reached."""
    enqueued = self.request.get("enqueued")  # a header leads.dispatch sets
    if isinstance(enqueued, float):
        logger.info(
            "reply to message %s: task started %.1f ms after it was queued",
            message_id,
            (time.time() - enqueued) * 1000,
        )
    try:
        reply_generate(message_id=message_id, task_id=self.request.id or "")
    except (OperationalError, InterfaceError) as exc:
        delay = min(DATABASE_RETRY_MAX_SECONDS, 2**self.request.retries)
        logger.warning(
            "reply to message %s: the database failed (%s); trying again in %d s",
            message_id,
            exc,
            delay,
        )
        raise self.retry(exc=exc, countdown=delay) from exc


@shared_task(acks_late=True, reject_on_worker_lost=True)
def lead_extract_task(message_id: int) -> None:
    """Read the lead facts of one visitor message, rescore the lead, hand it off if qualified;
    then, on the same background worker, bring the conversation's summary up to date when due."""
    lead = message_facts_extract(message_id=message_id)
    if lead is not None and conversation_summary_due(conversation_id=lead.conversation_id):
        try:
            conversation_summarise(conversation_id=lead.conversation_id)
        except llm.LLMError as exc:  # the next message's task tries again
            logger.warning("summary of conversation %s failed: %s", lead.conversation_id, exc)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def reply_suggest_task(conversation_id: int, request_id: str) -> None:
    """Suggest a reply to the rep who has taken the conversation over."""
    reply_suggest(conversation_id=conversation_id, request_id=request_id)


# No autoretry_for/max_retries: the back-off and the last attempt follow the notification's own
# attempts count, which also counts the runs a dying worker cut short (Celery's retries do not).
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def notification_send_task(self: Task[Any, Any], notification_id: int) -> None:
    """Deliver one notification; after a failed attempt, retry later until none is left."""
    try:
        notification_send(notification_id=notification_id)
    except NotificationFailed as exc:
        if exc.final:
            return  # recorded as failed and logged by the service
        delay = notification_retry_delay(attempts=exc.notification.attempts)
        raise self.retry(exc=exc, countdown=delay) from exc


@shared_task(acks_late=True, reject_on_worker_lost=True)
def knowledge_embed_task(site_id: int) -> None:
    """Embed the Site's passages that have no vector yet (safe to run twice)."""
    embedded = passages_embed(site_id=site_id)
    if embedded:
        logger.info("site %s: %d passage(s) embedded", site_id, embedded)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def purge_leads_task() -> None:
    """Celery beat, daily: each Site's conversations past its retention period are deleted
    (safe to run twice: what is gone is gone)."""
    for purged in conversations_purge():
        if purged.conversations:
            logger.info("purged %d conversation(s) of %s", purged.conversations, purged.site)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sweep_task() -> None:
    """Celery beat, every SWEEP_EVERY_SECONDS: queue again accepted work whose task was lost."""
    with contextlib.suppress(QueueUnavailable):  # logged; the next sweep tries again
        lost_work_requeue()
