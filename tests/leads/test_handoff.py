"""A lead qualified for the first time is handed off where it is qualified: by the rescore, by
staff setting the status, and by every service that settles facts, without a caller's help;
and only once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leads.models import Lead, Notification, Site
from leads.services import qualification
from leads.services.extraction import message_facts_extract
from leads.services.facts import lead_facts_correct, lead_identify
from leads.services.notifications import lead_qualified_notify
from leads.services.qualification import lead_rescore, lead_status_set
from tests.leads.factories import message_add

pytestmark = pytest.mark.django_db

QUALIFYING = {
    "name": "Ana Torres",
    "email": "ana@lumio.io",
    "budget_amount": Decimal("40000.00"),
    "budget_currency": "USD",
    "seats": 30,
    "timeline_months": 1,
    "is_decision_maker": True,
    "need": "A helpdesk for our support team",
}
# Budget, start, authority and need, read by the rules; nobody can reach the writer yet.
UNREACHABLE = (
    "I'm Ana Torres, Head of Ops at Lumio Labs, looking for a helpdesk for 30 agents. "
    "Budget is $40k a year and we want to start next month. I sign off on it."
)
BOTH = [Notification.Channel.EMAIL, Notification.Channel.WEBHOOK]


@pytest.fixture
def site(site: Site) -> Site:
    """The demo site, handing qualified leads to a webhook and the sales address."""
    site.webhook_url, site.webhook_secret = "http://127.0.0.1:9/hook", "whsec"
    site.sales_email = "sales@acme.example"
    site.qualified_score = 60
    site.save()
    return site


@pytest.fixture
def handoffs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the leads handed off, each time one is (the hand-off itself still runs:
    the notification rows alone cannot tell, as there is one per lead and channel)."""
    seen: list[int] = []

    def recorded(*, lead: Lead) -> list[Notification]:
        seen.append(lead.id)
        return lead_qualified_notify(lead=lead)

    monkeypatch.setattr(qualification, "lead_qualified_notify", recorded)
    return seen


def _channels(lead: Lead) -> list[str]:
    return sorted(Notification.objects.filter(lead=lead).values_list("channel", flat=True))


def _learn(lead: Lead, **facts: object) -> None:
    """Facts saved on the row, as a service does before it rescores."""
    for name, value in facts.items():
        setattr(lead, name, value)
    lead.save(update_fields=[*facts, "updated"])


def test_rescoring_a_qualifying_lead_hands_it_off(lead: Lead):
    _learn(lead, **QUALIFYING)
    assert lead_rescore(lead=lead) is True
    assert lead.status == Lead.Status.QUALIFIED
    assert _channels(lead) == BOTH
    assert Notification.objects.get(lead=lead, channel="email").target == "sales@acme.example"


def test_a_second_rescore_hands_nothing_off_again(lead: Lead, handoffs: list[int]):
    _learn(lead, **QUALIFYING)
    lead_rescore(lead=lead)
    assert lead_rescore(lead=lead) is False
    assert handoffs == [lead.id]
    assert _channels(lead) == BOTH


def test_a_lead_below_the_qualified_score_is_not_handed_off(lead: Lead):
    _learn(lead, email="ana@lumio.io", need="A helpdesk")
    assert lead_rescore(lead=lead) is False
    assert _channels(lead) == []


def test_a_rep_qualifying_a_lead_by_hand_hands_it_off_once(lead: Lead, rep, handoffs: list[int]):
    lead_status_set(lead=lead, status="qualified", by=rep)
    lead_status_set(lead=lead, status="qualified", by=rep)
    assert handoffs == [lead.id]
    assert _channels(lead) == BOTH


def test_a_qualifying_staff_correction_hands_the_lead_off(lead: Lead, rep):
    lead_facts_correct(lead=lead, values=QUALIFYING, by=rep)
    assert Lead.objects.get(id=lead.id).status == Lead.Status.QUALIFIED
    assert _channels(lead) == BOTH


def test_the_host_pages_email_hands_off_a_lead_it_makes_reachable(lead: Lead):
    message = message_add(lead.conversation, UNREACHABLE)
    message_facts_extract(message_id=message.id, extractor="rules")
    assert Lead.objects.get(id=lead.id).status == Lead.Status.ENGAGED  # nobody to call
    assert _channels(lead) == []
    lead_identify(conversation=lead.conversation, email="ana@lumio.io")
    assert Lead.objects.get(id=lead.id).status == Lead.Status.QUALIFIED
    assert _channels(lead) == BOTH


def test_the_rules_pass_hands_off_a_lead_its_message_qualifies(lead: Lead):
    message = message_add(lead.conversation, f"{UNREACHABLE} Write to ana@lumio.io")
    message_facts_extract(message_id=message.id, extractor="rules")
    assert Lead.objects.get(id=lead.id).status == Lead.Status.QUALIFIED
    assert _channels(lead) == BOTH


def test_reading_the_qualifying_message_again_hands_nothing_off_again(
    lead: Lead, handoffs: list[int]
):
    message = message_add(lead.conversation, f"{UNREACHABLE} Write to ana@lumio.io")
    message_facts_extract(message_id=message.id, extractor="rules")
    message_facts_extract(message_id=message.id, extractor="rules")
    assert handoffs == [lead.id]
    assert _channels(lead) == BOTH
