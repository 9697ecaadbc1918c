from __future__ import annotations

from django.contrib import admin

from leads.models import Conversation, Message, Site, Visitor


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
    list_display = ["id", "site", "visitor", "created"]
    list_filter = ["site"]
    date_hierarchy = "created"
    inlines = [MessageInline]
