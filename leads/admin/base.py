"""What the admin's pages share: rows scoped to the user's teams, and read-only records."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar, cast

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from leads.selectors.access import sites_visible


def request_staff(request: HttpRequest) -> User:
    # The admin lets only signed-in staff in: its user is never anonymous here.
    return cast(User, request.user)


class ReadOnlyInline(admin.TabularInline[Any, Any]):
    """Rows that are a record (what was said, what was read): shown, never edited here."""

    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Every field shown is read-only; the inlines list plain field names.
        return [str(name) for name in self.fields or ()]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


M = TypeVar("M", bound=models.Model)


class TeamScopedAdmin(admin.ModelAdmin[M]):
    """Only the rows of the sites on the user's teams (a superuser: every site), as on the
    dashboard: staff given admin permissions do not see other teams' visitors and leads."""

    # The path from a row to its Site; None: superusers only.
    site_path: ClassVar[str | None] = "site"

    def get_queryset(self, request: HttpRequest) -> QuerySet[M]:
        rows = super().get_queryset(request)
        user = request.user
        if getattr(user, "is_superuser", False):
            return rows
        if self.site_path is None or not isinstance(user, get_user_model()):
            return rows.none()
        return rows.filter(**{f"{self.site_path}__in": sites_visible(user=user)})


class ReadOnlyAdmin(TeamScopedAdmin[Any]):
    """A record of what happened: listed and searchable, written only by salesbot."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
