"""A lead's qualification: its score and status, moved by the rules in `leads.scoring` or by
staff; a lead qualified for the first time is handed off from here, whoever qualified it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from leads.errors import StatusInvalid
from leads.models import Lead, LeadEvent, default_score_weights
from leads.scoring import score_compute, status_for
from leads.selectors.leads import lead_facts
from leads.services.history import event_record, lead_changed
from leads.services.notifications import lead_qualified_notify

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


def lead_rescore(*, lead: Lead) -> bool:
    """Score the saved lead and move its status; True only when it is qualified for the first
    time, and then it is handed off (`lead_qualified_notify`) once the change commits.

    Reads the row under a lock, so two runs at once (extraction of two messages) cannot both see
    the lead unqualified: the hand-off happens once per lead. A lead qualified before
    (`qualified_at` set), e.g. by staff, returns False when it becomes qualified again. Raises
    `ScoringConfigInvalid` when the site's weights cannot be used.
    """
    with transaction.atomic():
        current = _locked(lead)
        site = current.site
        facts = lead_facts(current)
        # An empty object (the admin allows blank) means the defaults, not "score nothing".
        weights = site.score_weights or default_score_weights()
        score = score_compute(facts=facts, weights=weights)
        changed: dict[str, object] = {"score": score}
        first_qualified = False
        if not current.status_locked:
            status = status_for(
                score=score,
                current=current.status,
                engaged_score=site.engaged_score,
                qualified_score=site.qualified_score,
                reachable=bool(current.email or current.phone),
            )
            changed["status"] = status
            if status == Lead.Status.QUALIFIED and current.qualified_at is None:
                changed["qualified_at"] = timezone.now()
                first_qualified = current.status != Lead.Status.QUALIFIED
        old_status = current.status
        saved = _save_changed(current, changed)
        if "status" in saved:
            event_record(
                lead=current, kind=LeadEvent.Kind.STATUS, old=old_status, new=current.status
            )
        elif saved:
            lead_changed(lead=current)
        if first_qualified:
            lead_qualified_notify(lead=current)
    _copy_back(current, lead)
    return first_qualified


def lead_status_set(*, lead: Lead, status: str, by: User | None = None) -> Lead:
    """Set the status by hand and lock it, so scoring no longer moves it."""
    allowed = [choice.value for choice in Lead.Status]
    if status not in allowed:
        raise StatusInvalid(f"unknown lead status {status!r}: use one of {', '.join(allowed)}")
    with transaction.atomic():
        current = _locked(lead)
        changed: dict[str, object] = {"status": status, "status_locked": True}
        # qualified_at records the first qualification; setting it again would make an old lead
        # look fresh on the dashboard.
        first_qualified = status == Lead.Status.QUALIFIED and current.qualified_at is None
        if first_qualified:
            changed["qualified_at"] = timezone.now()
        old_status = current.status
        saved = _save_changed(current, changed)
        if "status" in saved:
            event_record(
                lead=current, kind=LeadEvent.Kind.STATUS, actor=by, old=old_status, new=status
            )
            logger.info("lead %s status set to %s by %s", current.pk, status, by or "unknown")
        elif saved:  # only locked: the dashboards show "set by staff"
            lead_changed(lead=current)
        if first_qualified:  # qualified by hand is qualified: the hand-off goes out once
            lead_qualified_notify(lead=current)
    _copy_back(current, lead)
    return lead


def lead_status_unlock(*, lead: Lead) -> Lead:
    """Hand the status back to scoring and rescore the lead at once.

    Scoring still never moves a qualified or disqualified lead: to reopen one, set it to new or
    engaged first, then unlock.
    """
    with transaction.atomic():
        current = _locked(lead)
        if _save_changed(current, {"status_locked": False}):
            lead_changed(lead=current)
        _copy_back(current, lead)
        lead_rescore(lead=lead)
    return lead


def _locked(lead: Lead) -> Lead:
    # of=("self",): lock the lead only, not the site every lead shares (PostgreSQL; SQLite's
    # IMMEDIATE transactions already serialise writers).
    return Lead.objects.select_related("site").select_for_update(of=("self",)).get(pk=lead.pk)


def _save_changed(lead: Lead, values: dict[str, object]) -> list[str]:
    """Set `values` on `lead` and save those that differ; the names of the saved fields."""
    fields = [name for name, value in values.items() if getattr(lead, name) != value]
    for name in fields:
        setattr(lead, name, values[name])
    if fields:
        lead.save(update_fields=[*fields, "updated"])
    return fields


def _copy_back(source: Lead, target: Lead) -> None:
    # The caller's instance shows what was saved, without a refresh_from_db of its own.
    if source is not target:
        for name in ("score", "status", "status_locked", "qualified_at", "updated"):
            setattr(target, name, getattr(source, name))
