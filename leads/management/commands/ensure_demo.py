from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from leads.services.setup import demo_knowledge_ensure, demo_site_ensure, dev_superuser_ensure


class Command(BaseCommand):
    help = (
        "Ensure the demo site, its knowledge and a development superuser exist; print the "
        "credentials."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        site = demo_site_ensure()
        demo_knowledge_ensure(site)
        user, password = dev_superuser_ensure(
            username=username, credentials_file=settings.VAR_DIR / "dev-superuser.txt"
        )
        self.stdout.write(f"demo site: {site.key} ({', '.join(site.allowed_origins)})")
        self.stdout.write(f"dashboard: {settings.SALESBOT_BASE_URL}/dashboard/ (log in as below)")
        self.stdout.write(f"admin login: {user} / {password}")
