"""The replies' worker queues the warm-up as it starts (and no other worker does), and the
task tries again after giving way to a reply, a bounded number of times."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings

import leads.tasks
from leads.services.replies import WarmUp
from salesbot.celery import app as celery_app


def _worker(*queues: str) -> Any:
    """What Celery's `worker_ready` sends: its consumer, whose app consumes `queues`."""
    selected = celery_app.amqp.Queues({})
    for name in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.EXTRACTION_QUEUE):
        selected.add(name)
    selected.select(queues)  # as `celery worker --queues` does
    return SimpleNamespace(app=SimpleNamespace(amqp=SimpleNamespace(queues=selected)))


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(
        leads.tasks.reply_warm_up_task, "apply_async", lambda **options: sent.append(options)
    )
    return sent


def test_only_the_worker_on_the_replies_queue_queues_the_warm_up(queued):
    leads.tasks._warm_reply_model(sender=_worker(settings.EXTRACTION_QUEUE))
    assert queued == []
    leads.tasks._warm_reply_model(sender=_worker(settings.CELERY_TASK_DEFAULT_QUEUE))
    assert len(queued) == 1 and queued[0]["expires"] > 0


@pytest.mark.parametrize(
    ("gave_way", "runs"), [(False, 1), (True, 1 + leads.tasks.WARM_UP_RETRIES)]
)
def test_a_warm_up_that_gave_way_runs_again_until_its_retries_are_over(
    monkeypatch: pytest.MonkeyPatch, gave_way: bool, runs: int
):
    calls: list[None] = []

    def warm_up() -> WarmUp:
        calls.append(None)
        return WarmUp(warmed=0, gave_way=gave_way)

    monkeypatch.setattr(leads.tasks, "reply_warm_up", warm_up)
    leads.tasks.reply_warm_up_task.apply()  # run here: its retries run at once, in turn
    assert len(calls) == runs
