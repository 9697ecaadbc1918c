"""The dashboard's URLs, under /dashboard/ (namespace "dashboard")."""

from __future__ import annotations

from django.urls import path

from leads.dashboard.views import actions, detail, knowledge, lists, metrics, takeover

app_name = "dashboard"

urlpatterns = [
    path("", lists.lead_list, name="lead-list"),
    path("leads.csv", lists.lead_export, name="lead-export"),
    path("metrics/", metrics.metrics, name="metrics"),
    path("leads/<int:lead_id>/", detail.lead_detail, name="lead-detail"),
    path("leads/<int:lead_id>/status/", actions.lead_status, name="lead-status"),
    path("leads/<int:lead_id>/owner/", actions.lead_owner, name="lead-owner"),
    path("leads/<int:lead_id>/notes/", actions.lead_note, name="lead-note"),
    path("leads/<int:lead_id>/facts/<str:fact>/", actions.lead_fact, name="lead-fact"),
    path("leads/<int:lead_id>/erase/", actions.lead_erase_view, name="lead-erase"),
    path("leads/<int:lead_id>/takeover/", takeover.takeover, name="takeover"),
    path("leads/<int:lead_id>/handback/", takeover.handback, name="handback"),
    path("leads/<int:lead_id>/messages/", takeover.agent_message, name="agent-message"),
    path("leads/<int:lead_id>/suggest/", takeover.suggest, name="suggest"),
    path("knowledge/", knowledge.knowledge, name="knowledge"),
    path("sites/<int:site_id>/knowledge/", knowledge.knowledge_site, name="knowledge-site"),
    path(
        "sites/<int:site_id>/knowledge/summary/", knowledge.summary_save, name="knowledge-summary"
    ),
    path("sites/<int:site_id>/knowledge/faq/", knowledge.faq_save, name="faq-add"),
    path("sites/<int:site_id>/knowledge/faq/<int:entry_id>/", knowledge.faq_save, name="faq-save"),
    path(
        "sites/<int:site_id>/knowledge/faq/<int:entry_id>/delete/",
        knowledge.faq_delete,
        name="faq-delete",
    ),
    path(
        "sites/<int:site_id>/knowledge/documents/",
        knowledge.document_upload,
        name="document-upload",
    ),
    path(
        "sites/<int:site_id>/knowledge/documents/<int:document_id>/delete/",
        knowledge.document_remove,
        name="document-delete",
    ),
]
