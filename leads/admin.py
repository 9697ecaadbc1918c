from __future__ import annotations

from django.contrib import admin

from leads.models import Conversation, Evidence, Lead, Message, Notification, Site, Visitor
from leads.services.scoring import lead_status_set, lead_status_unlock


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "key", "created"]
    search_fields = ["name", "key"]


@admin.register(Visitor)
class VisitorAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "site", "created", "last_seen"]
    list_filter = ["site"]
    readonly_fields = ["token"]


class MessageInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Message
    fields = ["created", "role", "status", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    fk_name = "conversation"

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "site", "visitor", "created", "consent_at"]
    readonly_fields = ["consent_at", "consent_notice"]
    list_filter = ["site"]
    date_hierarchy = "created"
    inlines = [MessageInline]


class EvidenceInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Evidence
    fields = [
        "field",
        "value",
        "quote",
        "extractor",
        "confidence",
        "current",
        "conflict",
        "superseded_by",
        "message",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    fk_name = "lead"

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class NotificationInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Notification
    fields = ["channel", "target", "status", "attempts", "last_error", "sent_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["__str__", "company", "site", "score", "status", "owner", "updated"]
    list_filter = ["site", "status"]
    search_fields = ["name", "email", "company"]
    readonly_fields = [
        "conversation", "visitor", "score", "status_locked", "qualified_at", "declined_fields",
    ]  # fmt: skip
    inlines = [EvidenceInline, NotificationInline]
    actions = ["status_unlock"]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        """A status set here is staff's: it is locked, and qualifying hands the lead off."""
        status = obj.status
        if change and "status" in form.changed_data:
            obj.status = form.initial["status"]
            super().save_model(request, obj, form, change)
            lead_status_set(lead=obj, status=status, by=request.user)
        else:
            super().save_model(request, obj, form, change)

    @admin.action(description="Hand the status back to scoring")
    def status_unlock(self, request, queryset):  # type: ignore[no-untyped-def]
        for lead in queryset:
            lead_status_unlock(lead=lead)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["lead", "channel", "event", "status", "attempts", "last_error", "sent_at"]
    list_filter = ["status", "channel"]
    readonly_fields = ["lead", "channel", "event", "target", "attempts", "last_error", "sent_at"]
