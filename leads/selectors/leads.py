"""Reading leads: a lead's facts, what the reply to a message knows, and lead rows as the
list and the CSV export show them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery

from leads.fields import FACT_NAMES
from leads.models import Lead, Message


def lead_facts(lead: Lead) -> dict[str, object]:
    """The lead's current facts by name, in the field table's order."""
    return {name: getattr(lead, name) for name in FACT_NAMES}


def lead_facts_json(lead: Lead) -> dict[str, object]:
    """The lead's facts for a JSON body (a webhook, an export): money as a decimal string, so
    that no JSON parser rounds it through a float."""
    facts = lead_facts(lead)
    amount = facts["budget_amount"]
    return facts | {"budget_amount": None if amount is None else str(amount)}


@dataclass(frozen=True)
class ReplyFacts:
    """What the assistant knows of the lead when it answers a message."""

    facts: dict[str, object]
    declined: list[str]
    qualified: bool


def reply_facts(*, conversation_id: int) -> ReplyFacts:
    """The conversation's lead as a reply reads it: what it knows (the latest message's own
    facts included: the rules read them as it was stored), what the visitor declined, and
    whether it is qualified. Nothing yet when the conversation has no lead."""
    lead = Lead.objects.filter(conversation_id=conversation_id).first()
    if lead is None:
        return ReplyFacts(facts={}, declined=[], qualified=False)
    return ReplyFacts(
        facts=lead_facts(lead),
        declined=list(lead.declined_fields),
        qualified=lead.status == Lead.Status.QUALIFIED,
    )


def leads_with_contact_times(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """`leads` as the list and the CSV show them: with site, owner and first and last contact."""
    # Subqueries, not Min/Max over a join: a GROUP BY over every message would also be paid
    # by count() and by each single-lead lookup, which read neither.
    messages = Message.objects.filter(conversation=OuterRef("conversation_id")).values("created")
    return leads.select_related("site", "owner", "conversation").annotate(
        first_contact=Subquery(messages.order_by("created")[:1]),
        last_contact=Subquery(messages.order_by("-created")[:1]),
    )
