"""Who works which site, and telling their open dashboards when that changes."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction

from leads.models import Site
from leads.services.broadcast import staff_sites_changed

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# What decides whether a user sees the dashboard at all, and which sites.
ACCESS_FIELDS = ("is_active", "is_staff", "is_superuser")


def site_team_changed(*, site: Site, before: set[int]) -> set[int]:
    """The users who joined or left `site`'s team since it was `before` (user ids); once the
    change commits, their open dashboards start or stop showing the site's leads, live."""
    changed = before ^ set(site.team.values_list("id", flat=True))
    for user_id in changed:
        transaction.on_commit(partial(staff_sites_changed, user_id=user_id))
    return changed


def user_access_changed(*, user: User, before: dict[str, bool]) -> bool:
    """Whether `user`'s access changed from `before` (their ACCESS_FIELDS); if so, once that
    commits, their open dashboards follow: closed when they are no longer staff."""
    if all(getattr(user, name) == before.get(name) for name in ACCESS_FIELDS):
        return False
    transaction.on_commit(lambda: staff_sites_changed(user_id=user.pk))
    return True


def users_deleted(*, user_ids: list[int]) -> None:
    """Once the deletion commits, the deleted users' open dashboards close."""
    for user_id in user_ids:
        transaction.on_commit(partial(staff_sites_changed, user_id=user_id))
