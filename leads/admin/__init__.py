"""The Django admin: every model, for the people who run salesbot. Writes go through the same
services as the dashboard, so the admin and the dashboard behave the same."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db import models
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

from leads.admin.base import ReadOnlyAdmin, ReadOnlyInline, TeamScopedAdmin, request_staff
from leads.admin.knowledge import FaqEntryInline, faq_saved
from leads.exports import csv_response
from leads.fields import FACT_NAMES
from leads.models import (
    Conversation,
    DashboardVisit,
    Evidence,
    FaqEntry,
    Lead,
    LeadEvent,
    Message,
    ModelCall,
    Notification,
    Site,
    Visitor,
)
from leads.selectors.leads import leads_with_contact_times
from leads.services.facts import lead_facts_correct
from leads.services.knowledge import summary_passage_sync
from leads.services.leads import lead_erase, leads_delete
from leads.services.qualification import lead_status_set, lead_status_unlock
from leads.services.teams import (
    ACCESS_FIELDS,
    site_team_changed,
    user_access_changed,
    users_deleted,
)


@admin.register(Site)
class SiteAdmin(TeamScopedAdmin[Site]):
    site_path = "id"
    list_display = ["name", "key", "consent_required", "qualified_score", "created"]
    list_filter = ["consent_required"]
    search_fields = ["name", "key", "description"]
    date_hierarchy = "created"
    filter_horizontal = ["team"]
    inlines = [FaqEntryInline]
    # A URL typed without a scheme is https (Django 6's default, without its warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_related(
        self, request: HttpRequest, form: ModelForm[Site], formsets: Any, change: bool
    ) -> None:
        site = form.instance
        before = set(site.team.values_list("id", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        site_team_changed(site=site, before=before)
        for formset in formsets:
            if formset.model is FaqEntry:
                faq_saved([f.instance for f in formset.forms if f.instance.pk])
        summary_passage_sync(site=site)


@admin.register(Visitor)
class VisitorAdmin(TeamScopedAdmin[Visitor]):
    list_display = ["id", "site", "created", "last_seen"]
    list_filter = ["site"]
    search_fields = ["leads__name", "leads__email"]
    date_hierarchy = "created"
    readonly_fields = ["token"]


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ["created", "role", "author", "status", "text"]
    fk_name = "conversation"


@admin.register(Conversation)
class ConversationAdmin(TeamScopedAdmin[Conversation]):
    list_display = ["id", "site", "visitor", "created", "consent_at", "agent"]
    list_select_related = ["site", "visitor__site", "agent"]  # agent is nullable: not automatic
    readonly_fields = ["consent_at", "consent_notice", "agent", "agent_since"]
    list_filter = ["site", ("agent", admin.EmptyFieldListFilter)]
    search_fields = ["lead__name", "lead__email", "lead__company"]
    date_hierarchy = "created"
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    site_path = "conversation__site"
    list_display = [
        "id",
        "conversation",
        "role",
        "status",
        "short_text",
        "first_token_ms",
        "created",
    ]
    list_filter = ["role", "status", "conversation__site"]
    search_fields = ["text"]
    date_hierarchy = "created"
    list_select_related = ["conversation"]

    @admin.display(description="text")
    def short_text(self, obj: Message) -> str:
        return obj.text if len(obj.text) <= 80 else obj.text[:79] + "…"


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    fields = [
        "field", "value", "quote", "extractor", "confidence", "current", "conflict",
        "superseded_by", "message", "author",
    ]  # fmt: skip
    fk_name = "lead"


class NotificationInline(ReadOnlyInline):
    model = Notification
    fields = ["channel", "target", "status", "attempts", "last_error", "sent_at"]


class LeadEventInline(ReadOnlyInline):
    model = LeadEvent
    fields = ["created", "kind", "actor", "field", "old", "new", "text"]
    show_change_link = False


@admin.register(Lead)
class LeadAdmin(TeamScopedAdmin[Lead]):
    list_display = ["__str__", "company", "site", "score", "status", "owner", "updated"]
    list_filter = ["status", "site", "status_locked", ("owner", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "email", "company"]
    date_hierarchy = "created"
    list_select_related = ["site", "owner"]
    readonly_fields = [
        "conversation", "visitor", "score", "status_locked", "qualified_at", "declined_fields",
        "erased_at",
    ]  # fmt: skip
    inlines = [EvidenceInline, LeadEventInline, NotificationInline]
    actions = ["export_csv", "mark_qualified", "mark_disqualified", "status_unlock", "erase"]

    def save_model(
        self, request: HttpRequest, obj: Lead, form: ModelForm[Lead], change: bool
    ) -> None:
        """A status set here is staff's: it is locked, and qualifying hands the lead off. Facts
        edited here are staff corrections, as on the dashboard: the extraction keeps them."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        status = obj.status
        facts = {
            name: getattr(obj, name) if getattr(obj, name) not in ("", None) else None
            for name in form.changed_data
            if name in FACT_NAMES
        }
        for name in [*facts, "status"]:
            setattr(obj, name, form.initial.get(name))
        super().save_model(request, obj, form, change)
        if facts:
            lead_facts_correct(lead=obj, values=facts, by=request_staff(request))
        if "status" in form.changed_data:
            lead_status_set(lead=obj, status=status, by=request_staff(request))

    def delete_model(self, request: HttpRequest, obj: Lead) -> None:
        """A lead goes with its conversation: left behind, its next message made it again."""
        leads_delete(lead_ids=[obj.id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        leads_delete(lead_ids=queryset.values_list("id", flat=True))

    @admin.action(description="Export selected leads to CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Lead]) -> StreamingHttpResponse:
        # What the admin lists, its model permissions allow: the export shows the same rows.
        leads = leads_with_contact_times(Lead.objects.filter(id__in=queryset.values("id")))
        return csv_response(leads, f"leads-{timezone.localdate():%Y-%m-%d}.csv")

    @admin.action(description="Mark selected leads qualified", permissions=["change"])
    def mark_qualified(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        for lead in queryset:
            lead_status_set(lead=lead, status=Lead.Status.QUALIFIED, by=request_staff(request))
        self.message_user(request, f"{queryset.count()} lead(s) marked qualified.")

    @admin.action(description="Mark selected leads disqualified", permissions=["change"])
    def mark_disqualified(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        for lead in queryset:
            lead_status_set(lead=lead, status=Lead.Status.DISQUALIFIED, by=request_staff(request))
        self.message_user(request, f"{queryset.count()} lead(s) marked disqualified.")

    @admin.action(description="Hand the status back to scoring", permissions=["change"])
    def status_unlock(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        for lead in queryset:
            lead_status_unlock(lead=lead)

    @admin.action(description="Erase the personal data of selected leads", permissions=["delete"])
    def erase(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        count = 0
        for lead in queryset.filter(erased_at__isnull=True):
            lead_erase(lead=lead, by=request_staff(request))
            count += 1
        self.message_user(
            request, f"Erased the personal data of {count} lead(s).", level=messages.WARNING
        )


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    site_path = "lead__site"
    list_display = ["lead", "field", "value", "extractor", "confidence", "current", "created"]
    list_filter = ["extractor", "field", "current", "conflict"]
    search_fields = ["quote", "lead__name", "lead__email"]
    date_hierarchy = "created"


@admin.register(LeadEvent)
class LeadEventAdmin(ReadOnlyAdmin):
    site_path = "lead__site"
    list_display = ["lead", "kind", "field", "actor", "created"]
    list_select_related = ["lead", "actor"]  # actor is nullable: not automatic
    list_filter = ["kind", ("actor", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["lead__name", "lead__email", "text"]
    date_hierarchy = "created"


@admin.register(Notification)
class NotificationAdmin(TeamScopedAdmin[Notification]):
    site_path = "lead__site"
    list_display = ["lead", "channel", "event", "status", "attempts", "last_error", "sent_at"]
    list_filter = ["status", "channel"]
    search_fields = ["lead__name", "lead__email", "target"]
    date_hierarchy = "created"
    readonly_fields = ["lead", "channel", "event", "target", "attempts", "last_error", "sent_at"]


@admin.register(ModelCall)
class ModelCallAdmin(ReadOnlyAdmin):
    site_path = "conversation__site"
    list_display = ["created", "role", "model", "tier", "outcome", "total_ms", "cost"]
    list_filter = ["role", "model", "outcome", "tier"]
    search_fields = ["model", "error_type"]
    date_hierarchy = "created"


@admin.register(DashboardVisit)
class DashboardVisitAdmin(ReadOnlyAdmin):
    site_path = None
    list_display = ["user", "seen_at"]
    date_hierarchy = "seen_at"


# Django's own, registered by django.contrib.auth.admin; whatever AUTH_USER_MODEL names.
admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class StaffUserAdmin(UserAdmin[User]):
    """Django's user admin; a user made inactive or no longer staff leaves open dashboards."""

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        before = {name: form.initial.get(name) for name in ACCESS_FIELDS} if change else {}
        super().save_model(request, obj, form, change)
        if change:
            user_access_changed(user=obj, before=before)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        user_id = obj.pk
        super().delete_model(request, obj)
        users_deleted(user_ids=[user_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        user_ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        users_deleted(user_ids=user_ids)
