"""Celery tasks: take ids, call one service, safe to run twice."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_process_init

import llm
from leads.services.replies import reply_generate

logger = logging.getLogger(__name__)


@worker_process_init.connect
def _load_model(**_: Any) -> None:
    """Load the model when a worker process starts, so the first visitor does not wait for it."""
    try:
        model = llm.get_llm()
    except llm.LLMError as exc:
        logger.error("the model could not be loaded: %s", exc)
    else:
        logger.info("model %s loaded (%s)", model.name, model.backend)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def reply_generate_task(self: Task, message_id: int) -> None:
    """Generate and stream the assistant's reply to one visitor message."""
    reply_generate(message_id=message_id, task_id=self.request.id or "")
