"""A lead's history, and telling open dashboards that a lead or a conversation changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from leads.models import Lead, LeadEvent
from leads.services.broadcast import staff_send

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def event_record(
    *,
    lead: Lead,
    kind: str,
    actor: User | None = None,
    field: str = "",
    old: Any = None,
    new: Any = None,
    text: str = "",
) -> LeadEvent:
    """Add one entry to the lead's history, and tell open dashboards once the change commits."""
    event = LeadEvent.objects.create(
        lead=lead,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        field=field,
        old=_json(old),
        new=_json(new),
        text=text,
    )
    lead_changed(lead=lead)
    return event


def fields_changed_record(
    *, lead: Lead, changes: dict[str, tuple[Any, Any]], actor: User | None = None
) -> None:
    """Add one history entry per changed fact (name: (old, new)); dashboards are told once."""
    LeadEvent.objects.bulk_create(
        LeadEvent(
            lead=lead,
            kind=LeadEvent.Kind.FIELD,
            actor=actor if actor is not None and actor.is_authenticated else None,
            field=name,
            old=_json(old),
            new=_json(new),
        )
        for name, (old, new) in changes.items()
    )
    lead_changed(lead=lead)


def lead_changed(*, lead: Lead) -> None:
    """Tell open dashboards, after commit, that the lead changed (their lists refresh)."""
    frame = {"type": "lead", "lead": lead.id, "site": lead.site_id}
    transaction.on_commit(lambda: staff_send(site_id=lead.site_id, frame=frame))


def conversation_changed(*, conversation_id: int, site_id: int) -> None:
    """Tell open dashboards, after commit, that a message was added to the conversation."""
    frame = {"type": "message", "conversation": conversation_id, "site": site_id}
    transaction.on_commit(lambda: staff_send(site_id=site_id, frame=frame))


def _json(value: Any) -> Any:
    # Decimal budgets and the like: the history stores what a person would read.
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)
