"""Rescoring saved leads, moving their status, and staff overrides."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from leads.errors import ScoringConfigInvalid
from leads.models import Conversation, Lead, Site, Visitor
from leads.services.qualification import lead_rescore, lead_status_set, lead_status_unlock

pytestmark = pytest.mark.django_db

FULL_FACTS = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "budget_amount": Decimal("20000.00"),
    "budget_currency": "USD",
    "seats": 40,
    "timeline_months": 2,
    "is_decision_maker": True,
    "need": "Route support chats to the right team",
}


@pytest.fixture
def site() -> Site:
    return Site.objects.create(key="acme", name="Acme")


@pytest.fixture
def lead(site: Site) -> Lead:
    visitor = Visitor.objects.create(site=site, token="visitor-token")
    conversation = Conversation.objects.create(site=site, visitor=visitor)
    return Lead.objects.create(site=site, visitor=visitor, conversation=conversation)


def _learn(lead: Lead, **facts: object) -> None:
    """Save facts on the lead, as extraction does before it rescores."""
    for name, value in facts.items():
        setattr(lead, name, value)
    lead.save(update_fields=[*facts, "updated"])


def test_rescore_saves_the_score_of_the_stored_facts(lead: Lead) -> None:
    _learn(lead, budget_amount=Decimal("900"), email="ada@example.com")
    lead_rescore(lead=lead)
    lead.refresh_from_db()
    assert lead.score == 25 + 15


def test_a_new_lead_becomes_engaged_at_the_engaged_score(lead: Lead) -> None:
    _learn(lead, need="A chatbot for our shop")  # 20 points: the default engaged_score
    assert lead_rescore(lead=lead) is False
    lead.refresh_from_db()
    assert lead.status == Lead.Status.ENGAGED
    assert lead.qualified_at is None


def test_a_lead_below_the_engaged_score_stays_new(lead: Lead) -> None:
    _learn(lead, name="Ada")
    lead_rescore(lead=lead)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW
    assert lead.score == 5


def test_an_engaged_lead_becomes_qualified_and_rescore_says_so(lead: Lead) -> None:
    _learn(lead, need="A chatbot for our shop")
    lead_rescore(lead=lead)
    _learn(lead, **FULL_FACTS)
    assert lead_rescore(lead=lead) is True
    lead.refresh_from_db()
    assert lead.status == Lead.Status.QUALIFIED
    assert lead.score == 100
    assert lead.qualified_at is not None


def test_a_new_lead_with_every_fact_goes_straight_to_qualified(lead: Lead) -> None:
    _learn(lead, **FULL_FACTS)
    assert lead_rescore(lead=lead) is True
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.QUALIFIED


def test_rescore_returns_true_only_once(lead: Lead) -> None:
    _learn(lead, **FULL_FACTS)
    stale = Lead.objects.get(pk=lead.pk)  # loaded before the first rescore, still "new"
    assert lead_rescore(lead=lead) is True
    qualified_at = Lead.objects.get(pk=lead.pk).qualified_at
    assert lead_rescore(lead=lead) is False
    assert lead_rescore(lead=stale) is False
    assert Lead.objects.get(pk=lead.pk).qualified_at == qualified_at


def test_rescore_updates_the_callers_instance(lead: Lead) -> None:
    _learn(lead, **FULL_FACTS)
    lead_rescore(lead=lead)
    assert (lead.score, lead.status) == (100, Lead.Status.QUALIFIED)
    assert lead.qualified_at is not None


def test_a_rescore_that_changes_nothing_does_not_write(lead: Lead) -> None:
    _learn(lead, need="A chatbot for our shop")
    lead_rescore(lead=lead)
    updated = Lead.objects.get(pk=lead.pk).updated
    lead_rescore(lead=lead)
    assert Lead.objects.get(pk=lead.pk).updated == updated


def test_a_falling_score_leaves_an_engaged_lead_engaged(lead: Lead) -> None:
    _learn(lead, need="A chatbot for our shop", seats=10)
    lead_rescore(lead=lead)
    _learn(lead, need="", seats=None)
    lead_rescore(lead=lead)
    lead.refresh_from_db()
    assert (lead.score, lead.status) == (0, Lead.Status.ENGAGED)


def test_rescore_uses_the_sites_weights_and_thresholds(site: Site, lead: Lead) -> None:
    site.score_weights = {"contact": 1}
    site.qualified_score = 90
    site.save()
    _learn(lead, email="ada@example.com")
    assert lead_rescore(lead=lead) is True
    lead.refresh_from_db()
    assert (lead.score, lead.status) == (100, Lead.Status.QUALIFIED)


def test_empty_site_weights_mean_the_defaults(site: Site, lead: Lead) -> None:
    site.score_weights = {}
    site.save()
    _learn(lead, budget_amount=Decimal("900"))
    lead_rescore(lead=lead)
    assert Lead.objects.get(pk=lead.pk).score == 25


def test_unusable_site_weights_raise_and_save_nothing(site: Site, lead: Lead) -> None:
    site.score_weights = {"budget": -5}
    site.save()
    _learn(lead, **FULL_FACTS)
    with pytest.raises(ScoringConfigInvalid, match="budget"):
        lead_rescore(lead=lead)
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.NEW


def test_a_locked_status_is_not_moved_but_the_score_is_kept_current(lead: Lead) -> None:
    lead_status_set(lead=lead, status=Lead.Status.NEW)
    _learn(lead, **FULL_FACTS)
    assert lead_rescore(lead=lead) is False
    lead.refresh_from_db()
    assert (lead.score, lead.status) == (100, Lead.Status.NEW)
    assert lead.qualified_at is None


def test_staff_set_the_status_and_lock_it(lead: Lead) -> None:
    staff = get_user_model().objects.create_user(username="sam", password="x")
    returned = lead_status_set(lead=lead, status="engaged", by=staff)
    assert returned is lead
    lead.refresh_from_db()
    assert (lead.status, lead.status_locked) == (Lead.Status.ENGAGED, True)


def test_staff_qualifying_a_lead_sets_qualified_at(lead: Lead) -> None:
    lead_status_set(lead=lead, status=Lead.Status.QUALIFIED)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.QUALIFIED
    assert lead.qualified_at is not None


def test_staff_qualifying_again_keeps_the_first_qualified_at(lead: Lead) -> None:
    _learn(lead, **FULL_FACTS)
    lead_rescore(lead=lead)
    first = Lead.objects.get(pk=lead.pk).qualified_at
    lead_status_set(lead=lead, status=Lead.Status.NEW)
    lead_status_set(lead=lead, status=Lead.Status.QUALIFIED)
    assert Lead.objects.get(pk=lead.pk).qualified_at == first


def test_an_unknown_status_is_refused_with_the_allowed_ones(lead: Lead) -> None:
    with pytest.raises(ValueError, match="new, engaged, qualified, disqualified"):
        lead_status_set(lead=lead, status="hot")
    lead.refresh_from_db()
    assert (lead.status, lead.status_locked) == (Lead.Status.NEW, False)


def test_a_disqualified_lead_stays_disqualified_whatever_it_scores(lead: Lead) -> None:
    lead_status_set(lead=lead, status=Lead.Status.DISQUALIFIED)
    lead_status_unlock(lead=lead)
    _learn(lead, **FULL_FACTS)
    assert lead_rescore(lead=lead) is False
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.DISQUALIFIED


def test_unlock_hands_the_status_back_to_scoring(lead: Lead) -> None:
    lead_status_set(lead=lead, status=Lead.Status.ENGAGED)
    _learn(lead, **FULL_FACTS)
    lead_rescore(lead=lead)
    returned = lead_status_unlock(lead=lead)
    assert returned is lead
    assert (lead.status, lead.status_locked, lead.score) == (Lead.Status.QUALIFIED, False, 100)
    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.status, stored.status_locked) == (Lead.Status.QUALIFIED, False)
    assert stored.qualified_at is not None


def test_a_lead_qualified_by_staff_is_not_reported_as_newly_qualified(lead: Lead) -> None:
    lead_status_set(lead=lead, status=Lead.Status.QUALIFIED)
    lead_status_set(lead=lead, status=Lead.Status.NEW)
    lead_status_unlock(lead=lead)
    _learn(lead, **FULL_FACTS)
    assert lead_rescore(lead=lead) is False
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.QUALIFIED


def test_staff_qualifying_a_lead_hands_it_off_once(lead):
    lead.site.sales_email = "sales@example.com"
    lead.site.save()
    lead_status_set(lead=lead, status=Lead.Status.QUALIFIED)
    lead_status_set(lead=lead, status=Lead.Status.QUALIFIED)
    assert list(lead.notifications.values_list("channel", flat=True)) == ["email"]
