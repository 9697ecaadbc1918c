"""What the staff dashboard remembers per rep. (The model lives with the domain's so that no
migration moves it; the dashboard app reads and writes it through `leads.services`.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DashboardVisit(models.Model):
    """When a rep last looked at the lead list: leads since then carry a "new" badge."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dashboard_visit"
    )
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user} looked at {self.seen_at:%Y-%m-%d %H:%M}"
