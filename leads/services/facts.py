"""A lead's facts from its evidence: storing what an extractor, the host page or a rep said,
and settling the lead on all of it."""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from django.db import transaction
from email_validator import EmailNotValidError, validate_email

from leads.errors import FactsInvalid, IdentityChanged, IdentityInvalid, LeadActionRefused
from leads.extraction.facts import Candidate, Source, Value, same_value
from leads.extraction.merge import resolve
from leads.fields import FACT_NAMES
from leads.models import Conversation, Evidence, Lead, Message
from leads.selectors.leads import lead_facts
from leads.services.history import fields_changed_record
from leads.services.leads import lead_ensure
from leads.services.qualification import lead_rescore
from leads.signing import identity_verify

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

HOST_QUOTE = "given by the host page (salesbot.identify)"
# Anyone can call identify() on a page (or forge the frame): unless the host's server signed the
# email, it is a hint that fills a gap but loses to anything the extractors read.
HOST_VERIFIED, HOST_UNVERIFIED = 1.0, 0.5
STAFF_QUOTE = "corrected on the dashboard"


def evidence_store(
    *, lead: Lead, message: Message, extractor: str, candidates: list[Candidate]
) -> None:
    """Store what `extractor` read from `message`, replacing what an earlier run of it read."""
    kept = []
    for candidate in candidates:
        evidence, _ = Evidence.objects.update_or_create(
            message=message,
            field=candidate.field,
            extractor=candidate.extractor,
            position=candidate.position,
            defaults={
                "lead": lead,
                "value": _to_json(candidate.value),
                "quote": candidate.quote,
                "confidence": candidate.confidence,
                "correction": candidate.correction,
            },
        )
        kept.append(evidence.id)
    # What an earlier run of a changed extractor found and this one did not, goes.
    message.evidence.filter(extractor=extractor).exclude(id__in=kept).delete()


def facts_settle(*, lead: Lead, actor: User | None = None) -> list[str]:
    """Recompute the lead's facts and each evidence's standing from all its evidence; the
    names of the facts that changed, each recorded in the lead's history (by `actor`)."""
    # Staff corrections have no message: among themselves, `id` keeps them in the order made.
    evidence = list(lead.evidence.order_by("message_id", "position", "id"))
    resolution = resolve(
        [
            Candidate(
                field=e.field,
                value=_from_json(e.field, e.value),
                turn=e.message_id or 0,  # the host's word comes before every message
                quote=e.quote,
                extractor=cast(Source, e.extractor),  # Evidence.Extractor holds the same names
                confidence=e.confidence,
                position=e.position,
                correction=e.correction,
            )
            for e in evidence
        ]
    )
    current = {i for indices in resolution.current.values() for i in indices}
    for i, e in enumerate(evidence):
        e.current = i in current
        superseding = resolution.superseded.get(i)
        e.superseded_by_id = evidence[superseding].id if superseding is not None else None
        e.conflict = e.field in resolution.conflicts and superseding is None
    Evidence.objects.bulk_update(evidence, ["current", "superseded_by", "conflict"])
    changes = {}
    for name in FACT_NAMES:
        value = resolution.values.get(name)
        new = Lead.fact_empty(name) if value is None else value
        if getattr(lead, name) != new:
            changes[name] = (getattr(lead, name), new)
            setattr(lead, name, new)
    if changes:
        lead.save(update_fields=[*changes, "updated"])
        fields_changed_record(lead=lead, changes=changes, actor=actor)
        logger.info("lead %s now has %s", lead.id, ", ".join(changes))
    return list(changes)


def _to_json(value: Value | None) -> object:
    return str(value) if isinstance(value, Decimal) else value


def _from_json(field: str, value: object) -> Value | None:
    if value is None:
        return None  # staff cleared the field
    if field == "budget_amount":
        return Decimal(str(value))
    return cast(Value, value)  # stored from a Value by _to_json: JSON gives it back as it was


def lead_facts_correct(
    *, lead: Lead, values: dict[str, Value | None], by: User | None
) -> list[str]:
    """Set facts by hand (None clears one); the names of those that changed.

    Each change is stored as staff evidence, which the extraction never overrides: a later
    message can add evidence, but the lead keeps the rep's value until staff change it again.
    """
    unknown = sorted(set(values) - set(FACT_NAMES))
    if unknown:
        raise FactsInvalid(f"unknown lead facts {', '.join(unknown)}: use {', '.join(FACT_NAMES)}")
    with transaction.atomic():
        current = Lead.objects.select_for_update().get(pk=lead.pk)
        if current.erased_at is not None:
            raise LeadActionRefused("This lead's personal data was erased; it takes no new facts.")
        facts = lead_facts(current)
        for field, value in values.items():
            old = facts[field] if facts[field] not in ("", None) else None
            if old is not None and value is not None and same_value(field, old, value):
                continue
            if old is None and value is None:
                continue
            Evidence.objects.create(
                lead=current,
                message=None,
                field=field,
                value=_to_json(value) if value is not None else None,
                quote=STAFF_QUOTE,
                extractor=Evidence.Extractor.STAFF,
                confidence=1.0,
                author=by if by is not None and by.is_authenticated else None,
            )
        changed = facts_settle(lead=current, actor=by)
        lead_rescore(lead=current)
    for name in (*FACT_NAMES, "score", "status", "updated"):
        setattr(lead, name, getattr(current, name))
    return changed


# The furthest ahead a host's identity signature may expire: a leaked one is good for no longer.
IDENTITY_MAX_SECONDS = 24 * 3600


def _signed_check(*, secret: str, email: str, user_id: str, expires: int, signature: str) -> None:
    if not identity_verify(
        secret=secret, email=email, user_id=user_id, expires=expires, signature=signature
    ):
        raise IdentityInvalid(
            "the signature does not match the email, user_id and expires; sign them on your "
            "server with the site's identity secret (docs/protocol.md)"
        )
    now = time.time()
    if expires <= now:
        raise IdentityInvalid("the signature has expired; have your server sign a fresh one")
    if expires > now + IDENTITY_MAX_SECONDS:
        raise IdentityInvalid(
            f"the signature expires more than {IDENTITY_MAX_SECONDS // 3600} hours ahead; "
            "sign one that expires sooner"
        )


def lead_identify(
    *,
    conversation: Conversation,
    email: str = "",
    name: str = "",
    user_id: str = "",
    expires: int = 0,
    signature: str = "",
) -> Lead:
    """Record who the host page says its logged-in visitor is; safe to repeat.

    A Site with an `identity_secret` takes only emails its host signed (with its user's id and
    an expiry at most IDENTITY_MAX_SECONDS ahead), and trusts them over anything read from the
    chat (a later correction by the visitor still wins); without one, the values are kept at low
    confidence. A conversation verified as one person's is not handed to another:
    `IdentityChanged` (the widget starts a new visitor for them).
    """
    secret = conversation.site.identity_secret
    values: dict[str, str] = {}
    if email.strip():
        try:
            values["email"] = validate_email(email.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise IdentityInvalid(f"the email {email.strip()!r} is not valid: {exc}") from None
        if secret:
            _signed_check(
                secret=secret, email=email, user_id=user_id, expires=expires, signature=signature
            )
    if name := " ".join(name.split()):
        values["name"] = name
    if not values:
        raise IdentityInvalid("identify() needs an email or a name")
    # The signature vouches for the email only: a name sent beside it is the page's word.
    confidence = {"email": HOST_VERIFIED if secret else HOST_UNVERIFIED, "name": HOST_UNVERIFIED}
    with transaction.atomic():
        lead = lead_ensure(conversation=conversation)
        lead = Lead.objects.select_for_update().get(id=lead.id)
        before = lead.evidence.filter(
            message=None, field="email", extractor=Evidence.Extractor.HOST
        ).first()
        if secret and "email" in values and before and before.value != values["email"]:
            raise IdentityChanged(
                "this chat belongs to another signed-in person; call salesbot.reset() when "
                "the user changes, and a new chat starts"
            )
        for field, value in values.items():
            Evidence.objects.update_or_create(
                lead=lead,
                message=None,
                field=field,
                extractor=Evidence.Extractor.HOST,
                defaults={"value": value, "quote": HOST_QUOTE, "confidence": confidence[field]},
            )
        facts_settle(lead=lead)
        lead_rescore(lead=lead)
    return lead
