"""The dashboard's URLs, under /dashboard/ (namespace "dashboard")."""

from __future__ import annotations

from django.urls import path

from leads.views import dashboard, metrics

app_name = "dashboard"

urlpatterns = [
    path("", dashboard.lead_list, name="lead-list"),
    path("leads.csv", dashboard.lead_export, name="lead-export"),
    path("metrics/", metrics.metrics, name="metrics"),
    path("leads/<int:lead_id>/", dashboard.lead_detail, name="lead-detail"),
    path("leads/<int:lead_id>/status/", dashboard.lead_status, name="lead-status"),
    path("leads/<int:lead_id>/owner/", dashboard.lead_owner, name="lead-owner"),
    path("leads/<int:lead_id>/notes/", dashboard.lead_note, name="lead-note"),
    path("leads/<int:lead_id>/facts/<str:fact>/", dashboard.lead_fact, name="lead-fact"),
    path("leads/<int:lead_id>/erase/", dashboard.lead_erase_view, name="lead-erase"),
    path("leads/<int:lead_id>/takeover/", dashboard.takeover, name="takeover"),
    path("leads/<int:lead_id>/handback/", dashboard.handback, name="handback"),
    path("leads/<int:lead_id>/messages/", dashboard.agent_message, name="agent-message"),
    path("leads/<int:lead_id>/suggest/", dashboard.suggest, name="suggest"),
]
