"""The admin: a status staff set is locked and hands a qualified lead off; unlocking rescores."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from leads.models import Conversation, Evidence, Lead, Notification, Site, Visitor
from tests.leads.factories import lead_create, message_add, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(demo_site):
    demo_site.sales_email = "sales@example.com"
    demo_site.save()
    visitor = Visitor.objects.create(site=demo_site, token="admin-test")
    conversation = Conversation.objects.create(site=demo_site, visitor=visitor)
    return Lead.objects.create(
        site=demo_site, visitor=visitor, conversation=conversation, name="Ana Torres"
    )


def _form(lead, **changes):
    data = {
        "site": lead.site_id, "name": lead.name, "email": "", "phone": "", "company": "",
        "job_title": "", "budget_currency": "", "need": "", "status": lead.status,
        "evidence-TOTAL_FORMS": 0, "evidence-INITIAL_FORMS": 0,
        "notifications-TOTAL_FORMS": 0, "notifications-INITIAL_FORMS": 0,
        "events-TOTAL_FORMS": 0, "events-INITIAL_FORMS": 0,
    }  # fmt: skip
    return data | changes


def test_qualifying_a_lead_in_the_admin_locks_it_and_hands_it_off(admin_client, lead):
    url = reverse("admin:leads_lead_change", args=[lead.id])
    response = admin_client.post(url, _form(lead, status="qualified"))
    assert response.status_code == 302, response.content.decode()[:2000]
    lead.refresh_from_db()
    assert (lead.status, lead.status_locked) == ("qualified", True)
    assert lead.qualified_at is not None
    assert list(lead.notifications.values_list("channel", flat=True)) == ["email"]


def test_unlocking_hands_the_status_back_to_scoring(admin_client, lead):
    Lead.objects.filter(id=lead.id).update(status="disqualified", status_locked=True)
    url = reverse("admin:leads_lead_changelist")
    admin_client.post(url, {"action": "status_unlock", "_selected_action": [lead.id]})
    lead.refresh_from_db()
    assert lead.status_locked is False


@pytest.fixture
def scoped_rep(demo_site, other_site):  # type: ignore[no-untyped-def]
    """A rep on the demo site's team, allowed to view every model in the admin."""
    rep = staff_user("rita", site=demo_site)
    rep.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return rep


@pytest.mark.parametrize(
    "model", ["site", "visitor", "conversation", "message", "lead", "evidence", "notification"]
)
def test_the_admin_shows_a_rep_only_their_teams_sites(client, scoped_rep, other_site, model):
    mine = lead_create(Site.objects.get(key="demo"), name="Ana Mine")
    theirs = lead_create(other_site, name="Bo Theirs")
    for lead in (mine, theirs):
        message_add(lead.conversation, f"hello from {lead.name}")
        Evidence.objects.create(
            lead=lead,
            field="name",
            value=lead.name,
            quote=lead.name,
            extractor="rules",
            confidence=0.9,
        )
        Notification.objects.create(lead=lead, channel="email", target="x@example.com")
    client.force_login(scoped_rep)
    listing = client.get(reverse(f"admin:leads_{model}_changelist"))
    assert listing.status_code == 200
    rows = listing.context["cl"].queryset
    assert rows.exists()
    site_of = {
        "site": lambda row: row.id,
        "visitor": lambda row: row.site_id,
        "conversation": lambda row: row.site_id,
        "message": lambda row: row.conversation.site_id,
        "lead": lambda row: row.site_id,
        "evidence": lambda row: row.lead.site_id,
        "notification": lambda row: row.lead.site_id,
    }[model]
    assert {site_of(row) for row in rows} == {mine.site_id}


def test_another_teams_lead_cannot_be_opened_in_the_admin(client, scoped_rep, other_site):
    theirs = lead_create(other_site, name="Bo Theirs")
    client.force_login(scoped_rep)
    response = client.get(reverse("admin:leads_lead_change", args=[theirs.id]))
    assert response.status_code == 302  # "does not exist": back to the list
    assert "Bo Theirs" not in client.get(response["Location"]).content.decode()
