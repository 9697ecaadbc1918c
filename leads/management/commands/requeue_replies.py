from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from leads.services.messages import ReplyNotQueued, replies_requeue


class Command(BaseCommand):
    help = (
        "Queue again the replies to visitor messages that have none (a broker outage, a dead "
        "worker). Workers also do this when they start."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--older-than", type=int, default=60, help="seconds (default 60)")
        parser.add_argument("--within", type=int, default=24, help="hours back (default 24)")

    def handle(self, *args: Any, older_than: int, within: int, **options: Any) -> None:
        try:
            count = replies_requeue(
                older_than=timedelta(seconds=older_than), within=timedelta(hours=within)
            )
        except ReplyNotQueued as exc:
            raise CommandError(f"{exc}: is Redis (REDIS_URL) reachable?") from exc
        self.stdout.write(f"queued {count} unanswered message(s)")
