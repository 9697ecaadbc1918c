"""A person's data across every Site (a data subject's request): their leads, found by the email
or phone they gave, and everything stored about them, as one JSON document."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django.db.models import Q, QuerySet
from django.utils import timezone

from leads.errors import InvalidInput
from leads.models import Evidence, Lead, Message
from leads.selectors.leads import lead_facts_json


def _e164(phone: str, region: str) -> str:
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"{phone!r} is not a phone number: {exc}") from None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def person_leads(*, email: str = "", phone: str = "", region: str = "US") -> QuerySet[Lead]:
    """Every lead, on any Site, whose person gave `email` or `phone` (as the lead's fact now, or
    in any message or from the host page before). A phone without a country code is read in
    `region`."""
    email = email.strip().lower()
    if not email and not phone.strip():
        raise InvalidInput("give an email or a phone number to find the person by")
    said = Q()
    held = Q()
    if email:
        held |= Q(email__iexact=email)
        said |= Q(field="email", value=email)
    if phone.strip():
        number = _e164(phone, region)
        held |= Q(phone=number)
        said |= Q(field="phone", value=number)
    evidenced = Evidence.objects.filter(said).values("lead_id")
    return Lead.objects.filter(held | Q(id__in=evidenced)).select_related("site").order_by("id")


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def person_export(*, leads: QuerySet[Lead]) -> dict[str, Any]:
    """What salesbot holds about the person behind `leads`: each lead's facts, the evidence with
    its quotes, the transcript, staff's notes and the history of values (JSON-ready)."""
    out = []
    for lead in leads:
        messages = Message.objects.filter(conversation_id=lead.conversation_id).order_by("id")
        out.append(
            {
                "site": {"key": lead.site.key, "name": lead.site.name},
                "lead": {
                    "id": lead.id,
                    **lead_facts_json(lead),
                    "status": lead.status,
                    "score": lead.score,
                    "created": _iso(lead.created),
                    "erased_at": _iso(lead.erased_at),
                },
                "consent": {
                    "at": _iso(lead.conversation.consent_at),
                    "notice": lead.conversation.consent_notice,
                },
                "evidence": [
                    {
                        "field": e.field,
                        "value": e.value,
                        "quote": e.quote,
                        "extractor": e.extractor,
                        "created": _iso(e.created),
                    }
                    for e in lead.evidence.order_by("id")
                ],
                "messages": [
                    {"role": m.role, "text": m.text, "created": _iso(m.created)} for m in messages
                ],
                "history": [
                    {
                        "kind": e.kind,
                        "field": e.field,
                        "old": e.old,
                        "new": e.new,
                        "text": e.text,
                        "created": _iso(e.created),
                    }
                    for e in lead.events.order_by("id")
                ],
                "summary": lead.conversation.summary,
            }
        )
    return {"exported_at": timezone.now().isoformat(), "leads": out}
