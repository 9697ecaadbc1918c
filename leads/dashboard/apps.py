from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "leads.dashboard"
    label = "dashboard"
    verbose_name = "Sales dashboard"
