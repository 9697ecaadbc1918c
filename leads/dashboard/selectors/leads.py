"""The dashboard's lead reads: the list filtered, searched and sorted, and one lead's parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from leads.models import Evidence, Lead, LeadEvent, Message
from leads.selectors.access import leads_visible

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The list's sort keys, as the URL spells them, and the columns they order by.
SORTS = {
    "updated": ("-updated", "-id"),
    "created": ("-created", "-id"),
    "score": ("-score", "-updated"),
    "name": ("name", "email", "id"),
    "last_contact": ("-last_contact", "-id"),
}


@dataclass(frozen=True)
class LeadFilters:
    """What the rep asked the list for; every part optional."""

    statuses: tuple[str, ...] = ()
    score_min: int | None = None
    score_max: int | None = None
    site_id: int | None = None
    owner: str = ""  # "", "me", "none" or a user id
    created_from: date | None = None
    created_to: date | None = None
    q: str = ""
    sort: str = "updated"


def leads_filtered(*, user: User, filters: LeadFilters) -> QuerySet[Lead]:
    """The leads `user` sees that match `filters`, in the order asked for."""
    leads = leads_visible(user=user)
    if filters.statuses:
        leads = leads.filter(status__in=filters.statuses)
    if filters.score_min is not None:
        leads = leads.filter(score__gte=filters.score_min)
    if filters.score_max is not None:
        leads = leads.filter(score__lte=filters.score_max)
    if filters.site_id is not None:
        leads = leads.filter(site_id=filters.site_id)
    if filters.owner == "me":
        leads = leads.filter(owner=user)
    elif filters.owner == "none":
        leads = leads.filter(owner__isnull=True)
    elif filters.owner.isdigit():
        leads = leads.filter(owner_id=int(filters.owner))
    if filters.created_from is not None:
        leads = leads.filter(created__date__gte=filters.created_from)
    if filters.created_to is not None:
        leads = leads.filter(created__date__lte=filters.created_to)
    for word in filters.q.split():
        leads = leads.filter(
            Q(name__icontains=word) | Q(email__icontains=word) | Q(company__icontains=word)
        )
    return leads.order_by(*SORTS.get(filters.sort, SORTS["updated"]))


def lead_for_user(*, user: User, lead_id: int) -> Lead | None:
    """One lead, if `user` may see it."""
    return leads_visible(user=user).filter(id=lead_id).first()


def leads_new_count(*, user: User, since: datetime | None) -> int:
    """How many leads `user` sees that were created after `since` (all of them if None)."""
    leads = leads_visible(user=user)
    return leads.filter(created__gt=since).count() if since is not None else leads.count()


def lead_transcript(*, lead: Lead) -> list[Message]:
    """Every message of the lead's conversation, oldest first, with who wrote the rep's."""
    return list(lead.conversation.messages.select_related("author").order_by("created", "id"))


def lead_evidence(*, lead: Lead) -> list[Evidence]:
    """All the evidence for the lead's facts: current first, then by field and time."""
    return sorted(
        lead.evidence.select_related("message", "author"),
        key=lambda e: (not e.current, e.field, e.created),
    )


def lead_history(*, lead: Lead, limit: int = 200) -> list[LeadEvent]:
    """The lead's latest changes and notes, newest first."""
    return list(lead.events.select_related("actor")[:limit])
