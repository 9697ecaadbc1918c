"""The sweep (Celery beat, every SWEEP_EVERY_SECONDS): work that was accepted but whose task was
lost — a broker outage or restart, a worker killed with its queue, a task that raised — is
queued again from what the database holds. Every task is safe to run twice, so a sweep that
finds work still on its way only costs a duplicate that does nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from leads.errors import QueueUnavailable
from leads.services.knowledge import knowledge_embed_requeue
from leads.services.messages import extractions_requeue, replies_requeue
from leads.services.notifications import notifications_requeue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Swept:
    replies: int
    extractions: int
    notifications: int
    knowledge: int = 0  # Sites whose passages were not all embedded


def lost_work_requeue() -> Swept:
    """Queue again the replies, extractions and notifications left behind for longer than
    SWEEP_AFTER_SECONDS (within a day, for messages); `QueueUnavailable` while the broker is
    down (the next sweep tries again)."""
    after = timedelta(seconds=settings.SWEEP_AFTER_SECONDS)
    try:
        swept = Swept(
            replies=replies_requeue(older_than=after, within=timedelta(days=1)),
            extractions=extractions_requeue(older_than=after, within=timedelta(days=1)),
            notifications=notifications_requeue(older_than=after),
            knowledge=knowledge_embed_requeue(),
        )
    except QueueUnavailable:
        logger.warning("the sweep could not reach the task queue; the next one tries again")
        raise
    if swept.replies or swept.extractions or swept.notifications:
        logger.warning(
            "sweep: queued again %d reply(ies), %d extraction(s), %d notification(s)",
            swept.replies,
            swept.extractions,
            swept.notifications,
        )
    return swept
