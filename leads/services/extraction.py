"""Reading lead facts out of a visitor's message and settling the lead on them."""

from __future__ import annotations

import hashlib
import hmac
import logging
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from email_validator import EmailNotValidError, validate_email

from leads import policy
from leads.extraction import Candidate, Turn, message_extract, resolve
from leads.extraction.facts import Value, same_value
from leads.models import FACT_FIELDS, Conversation, Evidence, Lead, Message
from leads.services.history import fields_changed_record, lead_changed
from leads.services.notifications import lead_qualified_notify
from leads.services.scoring import lead_rescore

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    import llm

logger = logging.getLogger(__name__)


def lead_ensure(*, conversation: Conversation) -> Lead:
    """The conversation's lead, created on first need."""
    lead, created = Lead.objects.get_or_create(
        conversation=conversation,
        defaults={"site_id": conversation.site_id, "visitor_id": conversation.visitor_id},
    )
    if created:
        lead_changed(lead=lead)
    return lead


def lead_facts(lead: Lead) -> dict[str, object]:
    """The lead's current facts by field name."""
    return {name: getattr(lead, name) for name in FACT_FIELDS}


def _turns(messages: list[Message]) -> list[Turn]:
    # A rep's question is read like the assistant's: the visitor's answer may follow it.
    return [
        Turn(
            id=m.id, role="visitor" if m.role == Message.Role.VISITOR else "assistant", text=m.text
        )
        for m in messages
    ]


def _previous(message: Message) -> Message | None:
    """The message before `message`: the question it may answer, all the extractors read of
    the conversation besides the message itself."""
    return (
        message.conversation.messages.filter(id__lt=message.id)
        .exclude(role=Message.Role.ASSISTANT, status=Message.Status.FAILED)
        .order_by("-id")
        .first()
    )


def message_facts_extract(
    *, message_id: int, extractor: str | None = None, model: llm.BaseLLM | None = None
) -> Lead | None:
    """Extract the facts of visitor message `message_id` and settle its lead; safe to run twice.

    Evidence is keyed by message, field, extractor and position, so a second run rewrites the
    same rows. The lead's facts, score and status are then recomputed from all its evidence.
    """
    message = Message.objects.select_related("conversation__site").filter(id=message_id).first()
    if message is None or message.role != Message.Role.VISITOR:
        return None
    site = message.conversation.site
    previous = _previous(message)
    turns = _turns([m for m in (previous, message) if m is not None])
    candidates = message_extract(
        turns,
        len(turns) - 1,
        region=site.default_region,
        extractor=extractor or settings.EXTRACTION_EXTRACTOR,  # type: ignore[arg-type]
        model=model,
        company_name=site.name,
    )
    try:
        return _lead_update(message=message, previous=previous, candidates=candidates)
    except (ObjectDoesNotExist, IntegrityError):
        # The conversation was erased while the model read it (a visitor's data deleted).
        logger.warning("conversation of message %s is gone; its facts are dropped", message_id)
        return None


def _lead_update(
    *, message: Message, previous: Message | None, candidates: list[Candidate]
) -> Lead:
    # The field the assistant asked for just before: a refusal in this message declines it.
    asked = previous.asked_field if previous and previous.role == Message.Role.ASSISTANT else ""
    with transaction.atomic():
        lead = lead_ensure(conversation=message.conversation)
        lead = Lead.objects.select_for_update().get(id=lead.id)
        _evidence_store(lead=lead, message=message, candidates=candidates)
        _facts_settle(lead=lead)
        if asked and policy.declines(message.text) and not policy.answered(asked, lead_facts(lead)):
            lead.declined_fields = sorted({*lead.declined_fields, asked})
            lead.save(update_fields=["declined_fields", "updated"])
        if lead_rescore(lead=lead):
            lead_qualified_notify(lead=lead)
    return lead


class IdentityInvalid(ValueError):
    """What the host page said about its visitor cannot be stored; the message says why."""


HOST_QUOTE = "given by the host page (salesbot.identify)"
# Anyone can call identify() on a page (or forge the frame): unless the host's server signed the
# email, it is a hint that fills a gap but loses to anything the extractors read.
HOST_VERIFIED, HOST_UNVERIFIED = 1.0, 0.5


def identity_signature(*, secret: str, email: str) -> str:
    """What the host's server passes as `signature`: HMAC-SHA256 (hex) of the lowercased email."""
    return hmac.new(secret.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


def lead_identify(
    *, conversation: Conversation, email: str = "", name: str = "", signature: str = ""
) -> Lead:
    """Record who the host page says its logged-in visitor is; safe to repeat.

    A Site with an `identity_secret` takes only emails its host signed, and trusts them over
    anything read from the chat (a later correction by the visitor still wins); without one,
    the values are kept at low confidence.
    """
    secret = conversation.site.identity_secret
    values: dict[str, str] = {}
    if email.strip():
        try:
            values["email"] = validate_email(email.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise IdentityInvalid(f"the email {email.strip()!r} is not valid: {exc}") from None
        if secret and not hmac.compare_digest(
            identity_signature(secret=secret, email=email), signature
        ):
            raise IdentityInvalid(
                "the signature does not match the email; sign it on your server with the "
                "site's identity secret (docs/protocol.md)"
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
        for field, value in values.items():
            Evidence.objects.update_or_create(
                lead=lead,
                message=None,
                field=field,
                extractor=Evidence.Extractor.HOST,
                defaults={"value": value, "quote": HOST_QUOTE, "confidence": confidence[field]},
            )
        _facts_settle(lead=lead)
        if lead_rescore(lead=lead):
            lead_qualified_notify(lead=lead)
    return lead


def facts_for_reply(*, message: Message, turns: list[Message]) -> tuple[Lead, dict[str, object]]:
    """The lead and what is known before the reply to `message`, its own facts included.

    `turns` is the reply's context, ending with `message`. Extraction of this message runs
    beside the reply; the rules pass (milliseconds) is run here too, so the assistant does not
    ask for the email the visitor has just given.
    """
    lead = lead_ensure(conversation=message.conversation)
    facts = lead_facts(lead)
    context = _turns(turns[-2:])
    fresh = resolve(
        message_extract(
            context,
            len(context) - 1,
            region=message.conversation.site.default_region,
            extractor="rules",
        )
    )
    for name, value in fresh.values.items():
        if facts.get(name) in (None, ""):
            facts[name] = value
    return lead, facts


def _evidence_store(*, lead: Lead, message: Message, candidates: list[Candidate]) -> None:
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
    message.evidence.exclude(id__in=kept).delete()


def _facts_settle(*, lead: Lead, actor: AbstractBaseUser | None = None) -> list[str]:
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
                extractor=e.extractor,  # type: ignore[arg-type]
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
    for name in FACT_FIELDS:
        value = resolution.values.get(name)
        field = Lead._meta.get_field(name)
        empty = None if field.null else ""
        new = empty if value is None else value
        if getattr(lead, name) != new:
            changes[name] = (getattr(lead, name), new)
            setattr(lead, name, new)
    if changes:
        lead.save(update_fields=[*changes, "updated"])
        fields_changed_record(lead=lead, changes=changes, actor=actor)
        logger.info("lead %s now has %s", lead.id, ", ".join(changes))
    return list(changes)


def _to_json(value: Value) -> object:
    return str(value) if isinstance(value, Decimal) else value


def _from_json(field: str, value: object) -> Value | None:
    if value is None:
        return None  # staff cleared the field
    if field == "budget_amount":
        return Decimal(str(value))
    return value  # type: ignore[return-value]


STAFF_QUOTE = "corrected on the dashboard"


def lead_facts_correct(
    *, lead: Lead, values: dict[str, Value | None], by: AbstractBaseUser | None
) -> list[str]:
    """Set facts by hand (None clears one); the names of those that changed.

    Each change is stored as staff evidence, which the extraction never overrides: a later
    message can add evidence, but the lead keeps the rep's value until staff change it again.
    """
    unknown = sorted(set(values) - set(FACT_FIELDS))
    if unknown:
        raise ValueError(f"unknown lead facts {', '.join(unknown)}: use {', '.join(FACT_FIELDS)}")
    with transaction.atomic():
        current = Lead.objects.select_for_update().get(pk=lead.pk)
        if current.erased_at is not None:
            raise ValueError("This lead's personal data was erased; it takes no new facts.")
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
        changed = _facts_settle(lead=current, actor=by)
        if lead_rescore(lead=current):
            lead_qualified_notify(lead=current)
    for name in (*FACT_FIELDS, "score", "status", "updated"):
        setattr(lead, name, getattr(current, name))
    return changed
