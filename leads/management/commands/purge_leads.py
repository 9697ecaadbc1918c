from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from leads.services.retention import conversations_purge


class Command(BaseCommand):
    help = (
        "Delete, on each Site with a retention period (Site.retention_days), the conversations "
        "and leads untouched for longer. Celery beat runs it daily (purge_leads_task)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would go; delete nothing"
        )

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        done = conversations_purge(dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        for purged in done:
            self.stdout.write(f"{purged.site}: {verb} {purged.conversations} conversation(s)")
        if not done:
            self.stdout.write("no site has a retention period (Site.retention_days)")
