"""Who sees what: staff open the dashboard; a rep works the sites whose team they are on, a
superuser every site."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from leads.models import Lead, Site
from leads.selectors.leads import leads_with_contact_times

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def user_is_staff(user: User) -> bool:
    """Whether `user` may open the dashboard at all."""
    return bool(user.is_authenticated and user.is_active and getattr(user, "is_staff", False))


def sites_visible(*, user: User) -> QuerySet[Site]:
    """The sites whose leads `user` works: every site for a superuser, else their teams'."""
    if not user_is_staff(user):
        return Site.objects.none()
    if getattr(user, "is_superuser", False):
        return Site.objects.all()
    return Site.objects.filter(team=user)


def user_sees_site(*, user: User, site_id: int) -> bool:
    return sites_visible(user=user).filter(id=site_id).exists()


def leads_visible(*, user: User) -> QuerySet[Lead]:
    """Every lead `user` may see and act on, with the times of its first and last message."""
    return leads_with_contact_times(Lead.objects.filter(site__in=sites_visible(user=user)))


def owners_for(*, user: User, site_id: int | None = None) -> QuerySet[User]:
    """The reps a lead can be assigned to: active staff on the site's team, and superusers."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    sites = sites_visible(user=user)
    if site_id is not None:
        sites = sites.filter(id=site_id)
    return users.filter(Q(is_superuser=True) | Q(sites__in=sites)).distinct().order_by("username")
