"""The admin: a status staff set is locked and hands a qualified lead off; unlocking rescores."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leads.models import Conversation, Lead, Visitor

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
