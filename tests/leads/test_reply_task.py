"""The reply task tries again, as the same task, when the database failed under it (its reply
row stays "generating" under that task's id); other failures are not retried."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError

import leads.tasks


def _failing(monkeypatch: pytest.MonkeyPatch, errors: list[Exception]) -> list[str]:
    """reply_generate raising `errors` in turn, then succeeding; the task ids it ran under."""
    runs: list[str] = []

    def reply_generate(*, message_id: int, task_id: str) -> None:
        runs.append(task_id)
        if errors:
            raise errors.pop(0)

    monkeypatch.setattr(leads.tasks, "reply_generate", reply_generate)
    return runs


def test_a_reply_the_database_failed_runs_again_as_the_same_task(monkeypatch):
    runs = _failing(
        monkeypatch, [OperationalError("server closed the connection"), InterfaceError("closed")]
    )
    result = leads.tasks.reply_generate_task.apply(args=(7,), task_id="t-1")  # retries at once
    assert result.successful()
    assert runs == ["t-1", "t-1", "t-1"]


def test_the_retries_end(monkeypatch):
    errors: list[Exception] = [OperationalError("down")] * (leads.tasks.DATABASE_RETRIES + 1)
    runs = _failing(monkeypatch, errors)
    result = leads.tasks.reply_generate_task.apply(args=(7,))
    assert isinstance(result.result, OperationalError)
    assert len(runs) == leads.tasks.DATABASE_RETRIES + 1


def test_other_failures_are_not_retried(monkeypatch):
    runs = _failing(monkeypatch, [RuntimeError("a bug")])
    result = leads.tasks.reply_generate_task.apply(args=(7,))
    assert isinstance(result.result, RuntimeError)
    assert len(runs) == 1
