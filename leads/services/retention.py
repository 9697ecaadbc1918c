"""Keeping personal data no longer than needed: a person's leads erased on request (every Site),
and each Site's old conversations purged once its retention period has passed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from leads.models import Conversation, Lead, Site, Visitor
from leads.selectors.people import person_leads
from leads.services.leads import lead_erase, leads_delete

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


def person_erase(
    *, email: str = "", phone: str = "", region: str = "US", by: User | None
) -> list[Lead]:
    """Erase every lead, on any Site, of the person who gave `email` or `phone`; the leads
    erased now (those erased before are left as they are)."""
    erased = []
    for lead in person_leads(email=email, phone=phone, region=region).filter(erased_at=None):
        erased.append(lead_erase(lead=lead, by=by))
    logger.info("erased %d lead(s) of one person", len(erased))
    return erased


@dataclass(frozen=True)
class Purged:
    site: str
    conversations: int


def _stale(site: Site, now: datetime) -> list[int]:
    """The Site's conversations with nothing said since its retention period began."""
    assert site.retention_days is not None
    cutoff = now - timedelta(days=site.retention_days)
    return list(
        Conversation.objects.filter(site=site)
        .annotate(last=Coalesce(Max("messages__created"), "created"))
        .filter(last__lt=cutoff)
        .values_list("id", flat=True)
    )


def conversations_purge(*, now: datetime | None = None, dry_run: bool = False) -> list[Purged]:
    """Delete, on each Site with a retention period, the conversations (with their leads and
    all that hangs on them) untouched for longer than it, and visitors left without any."""
    now = now or timezone.now()
    done = []
    for site in Site.objects.filter(retention_days__isnull=False).order_by("key"):
        stale = _stale(site, now)
        if stale and not dry_run:
            leads_delete(
                lead_ids=Lead.objects.filter(conversation_id__in=stale).values_list("id", flat=True)
            )
            Conversation.objects.filter(id__in=stale).delete()  # those that had no lead
            Visitor.objects.filter(Q(site=site), conversations=None).delete()
        done.append(Purged(site=site.key, conversations=len(stale)))
    return done
