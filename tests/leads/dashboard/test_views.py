"""The sales dashboard through the test client: who sees what, the list, a lead's page, the
actions a rep takes there, the CSV export, the metrics page, and the admin."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads.dashboard import charts
from leads.dashboard.selectors.metrics import percentile
from leads.exports import EXPORT_COLUMNS
from leads.models import (
    DashboardVisit,
    Evidence,
    Lead,
    LeadEvent,
    Message,
    ModelCall,
    Notification,
    Site,
)
from leads.services.broadcast import staff_group
from leads.services.extraction import message_facts_extract
from leads.services.facts import facts_settle, lead_facts_correct
from leads.services.leads import lead_note_add
from leads.services.takeover import conversation_takeover
from salesbot.embedded_redis import EmbeddedRedis
from tests.leads.factories import lead_create, message_add, staff_user

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TABLE = {**HTMX, "HTTP_HX_TARGET": "lead-table"}
LIST_URL = reverse("dashboard:lead-list")
EXPORT_URL = reverse("dashboard:lead-export")
METRICS_URL = reverse("dashboard:metrics")
# Every POST a rep makes on a lead's page, with a body that would otherwise succeed.
ACTIONS = {
    "lead-status": {"status": "engaged"},
    "lead-owner": {"owner": ""},
    "lead-note": {"text": "A note"},
    "lead-erase": {"confirm": "erase"},
    "takeover": {},
    "handback": {},
    "agent-message": {"text": "Hello"},
    "suggest": {},
}


def _say(lead: Lead, text: str, **fields: object) -> Message:
    return message_add(lead.conversation, text, **fields)


def _created(obj: Lead | Message, when) -> None:  # type: ignore[no-untyped-def]
    type(obj).objects.filter(id=obj.id).update(created=when)


def _detail(lead: Lead) -> str:
    return reverse("dashboard:lead-detail", args=[lead.id])


def _action(name: str, lead: Lead) -> str:
    return reverse(f"dashboard:{name}", args=[lead.id])


def _fact(lead: Lead, fact: str) -> str:
    return reverse("dashboard:lead-fact", args=[lead.id, fact])


def _rows(response) -> dict[int, str]:  # type: ignore[no-untyped-def]
    """The lead table's rows by lead id, in the order shown."""
    html = response.content.decode()
    return {
        int(lead_id): row
        for lead_id, row in re.findall(r'<tr data-lead="(\d+)">(.*?)</tr>', html, re.S)
    }


def _shown(response) -> list[int]:  # type: ignore[no-untyped-def]
    return list(_rows(response))


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def outsider(other_site: Site):  # type: ignore[no-untyped-def]
    """Staff, but on another site's team only."""
    return staff_user("sam", site=other_site)


@pytest.fixture
def rep_client(client, rep):  # type: ignore[no-untyped-def]
    client.force_login(rep)
    return client


@pytest.fixture
def known_lead(site: Site) -> Lead:
    """A lead with a transcript, facts resting on evidence, and a note."""
    lead = lead_create(site)
    message = _say(lead, "My name is Ana Torres, write to ana@globex.com")
    _say(lead, "Thanks Ana! What does Globex need?", role=Message.Role.ASSISTANT)
    for field, value, quote in [
        ("name", "Ana Torres", "My name is Ana Torres"),
        ("email", "ana@globex.com", "write to ana@globex.com"),
    ]:
        Evidence.objects.create(
            lead=lead,
            message=message,
            field=field,
            value=value,
            quote=quote,
            extractor=Evidence.Extractor.RULES,
            confidence=0.9,
        )
    facts_settle(lead=lead)
    lead_note_add(lead=lead, text="Prefers a call on Mondays", by=staff_user("nora", site=site))
    lead.refresh_from_db()
    return lead


# ---- who may see what ---------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_the_login(client):
    response = client.get(LIST_URL)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={LIST_URL}"


def test_an_anonymous_htmx_request_redirects_the_whole_page_to_the_login(client):
    response = client.get(LIST_URL, **HTMX)
    assert response["HX-Redirect"] == f"{reverse('admin:login')}?next={LIST_URL}"


def test_an_anonymous_htmx_request_keeps_the_whole_page_url_in_next(client):
    page = "/dashboard/?status=new&sort=score"
    response = client.get(LIST_URL, HTTP_HX_CURRENT_URL=f"http://testserver{page}", **HTMX)
    query = parse_qs(urlsplit(response["HX-Redirect"]).query)
    assert query == {"next": [page]}


@pytest.mark.parametrize(
    "url",
    [LIST_URL, EXPORT_URL, METRICS_URL, "detail"],
    ids=["list", "export", "metrics", "detail"],
)
def test_a_signed_in_user_who_is_not_staff_is_forbidden(client, lead, url):
    client.force_login(staff_user("customer", staff=False))
    response = client.get(_detail(lead) if url == "detail" else url)
    assert response.status_code == 403


@pytest.mark.parametrize("name", [*ACTIONS, "lead-fact"])
def test_a_user_who_is_not_staff_cannot_act_on_a_lead(client, lead, name):
    client.force_login(staff_user("customer", staff=False))
    url = _fact(lead, "name") if name == "lead-fact" else _action(name, lead)
    assert client.post(url, ACTIONS.get(name, {"name": "X"})).status_code == 403


def test_a_rep_does_not_see_the_leads_of_a_site_they_are_not_on(client, outsider, lead):
    client.force_login(outsider)
    mine = lead_create(outsider.sites.get())
    assert _shown(client.get(LIST_URL)) == [mine.id]


def test_a_rep_gets_404_for_a_lead_of_a_site_they_are_not_on(client, outsider, lead):
    client.force_login(outsider)
    assert client.get(_detail(lead)).status_code == 404


@pytest.mark.parametrize("name", [*ACTIONS, "lead-fact"])
def test_a_rep_cannot_act_on_a_lead_of_a_site_they_are_not_on(client, outsider, lead, name):
    client.force_login(outsider)
    url = _fact(lead, "name") if name == "lead-fact" else _action(name, lead)
    assert client.post(url, ACTIONS.get(name, {"name": "X"})).status_code == 404
    lead.refresh_from_db()
    assert lead.name == "" and lead.erased_at is None and not lead.events.exists()


def test_a_rep_on_the_team_sees_the_sites_leads(rep_client, lead):
    assert _shown(rep_client.get(LIST_URL)) == [lead.id]
    assert rep_client.get(_detail(lead)).status_code == 200


def test_a_superuser_sees_the_leads_of_every_site(admin_client, lead, other_site):
    other = lead_create(other_site)
    assert set(_shown(admin_client.get(LIST_URL))) == {lead.id, other.id}


# ---- the list -----------------------------------------------------------------------------------


def test_the_list_filters_by_status(rep_client, site):
    qualified = lead_create(site, status=Lead.Status.QUALIFIED)
    lead_create(site, status=Lead.Status.NEW)
    assert _shown(rep_client.get(LIST_URL, {"status": "qualified"})) == [qualified.id]


def test_the_list_filters_by_score_range(rep_client, site):
    leads = {score: lead_create(site, score=score) for score in (10, 40, 60, 90)}
    shown = _shown(rep_client.get(LIST_URL, {"score_min": 30, "score_max": 60}))
    assert set(shown) == {leads[40].id, leads[60].id}


def test_the_list_filters_by_site(admin_client, lead, other_site):
    other = lead_create(other_site)
    assert _shown(admin_client.get(LIST_URL, {"site": other_site.id})) == [other.id]


@pytest.mark.parametrize("owner", ["me", "none", "colleague"])
def test_the_list_filters_by_owner(rep_client, site, rep, colleague, owner):
    leads = {"me": lead_create(site, owner=rep), "colleague": lead_create(site, owner=colleague)}
    leads["none"] = lead_create(site)
    value = str(colleague.id) if owner == "colleague" else owner
    assert _shown(rep_client.get(LIST_URL, {"owner": value})) == [leads[owner].id]


def test_the_list_filters_by_creation_date(rep_client, site):
    now = timezone.now()
    leads = [lead_create(site) for _ in range(3)]
    for lead, days in zip(leads, (10, 3, 0), strict=True):
        _created(lead, now - timedelta(days=days))
    today = timezone.localdate()
    query = {"created_from": today - timedelta(days=5), "created_to": today - timedelta(days=1)}
    assert _shown(rep_client.get(LIST_URL, query)) == [leads[1].id]


@pytest.mark.parametrize("q", ["torres", "GLOBEX.COM", "initech", "ana initech"])
def test_the_list_searches_name_email_and_company(rep_client, site, q):
    found = lead_create(site, name="Ana Torres", email="ana@globex.com", company="Initech")
    lead_create(site, name="Bob Stone", email="bob@example.com", company="Umbrella")
    assert _shown(rep_client.get(LIST_URL, {"q": q})) == [found.id]


def test_the_list_sorts_by_score(rep_client, site):
    leads = {score: lead_create(site, score=score) for score in (10, 90, 50)}
    shown = _shown(rep_client.get(LIST_URL, {"sort": "score"}))
    assert shown == [leads[90].id, leads[50].id, leads[10].id]


def test_the_list_is_paginated(rep_client, site, settings):
    settings.DASHBOARD_PAGE_SIZE = 2
    leads = [lead_create(site) for _ in range(3)]
    first = rep_client.get(LIST_URL, {"sort": "created"})
    second = rep_client.get(LIST_URL, {"sort": "created", "page": 2})
    assert _shown(first) == [leads[2].id, leads[1].id]
    assert _shown(second) == [leads[0].id]
    assert "Page 2 of 2" in second.content.decode()


def test_an_invalid_filter_is_reported_and_the_list_still_renders(rep_client, lead):
    response = rep_client.get(LIST_URL, {"score_min": "lots"})
    assert response.status_code == 200
    assert "Enter a whole number." in response.content.decode()
    assert _shown(response) == [lead.id]


def test_an_htmx_refresh_of_the_table_returns_the_table_alone(rep_client, lead):
    since = timezone.now() - timedelta(hours=1)
    html = rep_client.get(LIST_URL, {"since": since.isoformat()}, **TABLE).content.decode()
    assert 'id="lead-table"' in html
    assert "<html" not in html
    assert 'id="new-count"' in html and 'hx-swap-oob="true"' in html


def test_an_htmx_refresh_badges_the_leads_created_since_the_page_opened(rep_client, site):
    since = timezone.now() - timedelta(hours=1)
    old, new = lead_create(site), lead_create(site)
    _created(old, since - timedelta(minutes=5))
    response = rep_client.get(LIST_URL, {"since": since.isoformat()}, **TABLE)
    rows = _rows(response)
    assert "badge new" in rows[new.id] and "badge new" not in rows[old.id]
    assert "1 new since your last visit" in response.content.decode()


def test_an_htmx_refresh_does_not_count_as_a_visit(rep_client, rep, lead):
    rep_client.get(LIST_URL, {"since": timezone.now().isoformat()}, **TABLE)
    assert not DashboardVisit.objects.filter(user=rep).exists()


def test_an_impossible_since_on_a_refresh_is_ignored(rep_client, lead):
    response = rep_client.get(LIST_URL, {"since": "2024-02-30T10:00:00"}, **TABLE)
    assert response.status_code == 200


def test_the_first_visit_marks_nothing_new(rep_client, lead):
    html = rep_client.get(LIST_URL).content.decode()
    assert 'badge new">New' not in html
    assert '<span id="new-count" class="badge new" hidden>0 new' in html


def test_a_later_visit_badges_and_counts_the_leads_since_the_last(rep_client, rep, site):
    seen = timezone.now() - timedelta(hours=1)
    DashboardVisit.objects.create(user=rep, seen_at=seen)
    old, new = lead_create(site), lead_create(site)
    _created(old, seen - timedelta(hours=1))
    response = rep_client.get(LIST_URL)
    rows = _rows(response)
    assert "badge new" in rows[new.id] and "badge new" not in rows[old.id]
    assert '<span id="new-count" class="badge new">1 new since your last visit' in (
        response.content.decode()
    )
    assert DashboardVisit.objects.get(user=rep).seen_at > seen


# ---- a lead's page ------------------------------------------------------------------------------


def test_the_lead_page_shows_the_transcript(rep_client, known_lead):
    html = rep_client.get(_detail(known_lead)).content.decode()
    assert "My name is Ana Torres, write to ana@globex.com" in html
    assert "Thanks Ana! What does Globex need?" in html


def test_the_transcript_shows_how_a_reply_was_composed_escaped(rep_client, known_lead):
    known_lead.conversation.messages.filter(role=Message.Role.ASSISTANT).update(
        intent="small_talk",
        language="es",
        sources=[{"id": 1, "heading": "Plans <b>", "text": "Team: EUR 29 per seat."}],
        withheld=[{"sentence": "It costs <i>$35</i>.", "failures": ["amount"]}],
    )
    html = rep_client.get(_detail(known_lead)).content.decode()
    assert ">small talk · es</span>" in html
    assert "Given 1 passage of the knowledge" in html
    assert "<strong>Plans &lt;b&gt;</strong>: Team: EUR 29 per seat." in html
    assert "1 sentence of the model withheld by the reply guard" in html
    assert 'It costs &lt;i&gt;$35&lt;/i&gt;. <span class="sub">(amount)</span>' in html


def test_the_transcript_shows_which_tier_answered_and_why(rep_client, known_lead):
    known_lead.conversation.messages.filter(role=Message.Role.ASSISTANT).update(
        route_tier="complex",
        route_score=0.85,
        route_reasons=["negotiation: <discount>"],
        agreement=0.8123,
    )
    html = rep_client.get(_detail(known_lead)).content.decode()
    assert ">agreement 0.81</span>" in html
    assert 'title="complexity 0.85: negotiation: &lt;discount&gt;">complex tier</span>' in html
    assert html.count(" tier</span>") == 1


def test_the_lead_page_shows_each_facts_quote_confidence_and_source(rep_client, known_lead):
    html = rep_client.get(_detail(known_lead)).content.decode()
    assert "<q>My name is Ana Torres</q>" in html
    assert "Rules · 90%" in html


def test_a_quote_behind_the_budgets_amount_and_currency_shows_once(rep_client, lead):
    message = _say(lead, "Our budget is $20,000.")
    message_facts_extract(message_id=message.id, extractor="rules")
    assert set(lead.evidence.values_list("field", flat=True)) == {
        "budget_amount",
        "budget_currency",
    }
    html = rep_client.get(_detail(lead), {"panel": "facts"}, **HTMX).content.decode()
    budget = html[html.index('id="fact-budget"') : html.index('id="fact-seats"')]
    assert "20,000 USD" in budget
    assert budget.count("<q>$20,000</q>") == 1


def test_each_staff_correction_of_the_budget_shows_once(rep_client, lead, rep):
    lead_facts_correct(
        lead=lead, values={"budget_amount": Decimal(5000), "budget_currency": "EUR"}, by=rep
    )
    html = rep_client.get(_detail(lead), {"panel": "facts"}, **HTMX).content.decode()
    budget = html[html.index('id="fact-budget"') : html.index('id="fact-seats"')]
    assert budget.count(f"set by {rep.username}") == 1


def test_the_lead_page_shows_the_history(rep_client, known_lead):
    html = rep_client.get(_detail(known_lead)).content.decode()
    assert "Prefers a call on Mondays" in html
    assert "set <strong>name</strong>" in html


def test_the_history_names_a_fact_as_people_read_it(rep_client, lead, rep):
    lead_facts_correct(lead=lead, values={"job_title": "CTO"}, by=rep)
    html = rep_client.get(_detail(lead), {"panel": "history"}, **HTMX).content.decode()
    assert "set <strong>job title</strong> to “CTO”" in html


@pytest.mark.parametrize("panel", ["transcript", "facts", "summary", "history", "takeover"])
def test_a_panel_of_the_lead_page_comes_alone(rep_client, known_lead, panel):
    html = rep_client.get(_detail(known_lead), {"panel": panel}, **HTMX).content.decode()
    assert html.lstrip().startswith(f'<section id="{panel}"')
    assert "<html" not in html and html.count("<section") == 1


def test_an_unknown_panel_is_not_found(rep_client, lead):
    assert rep_client.get(_detail(lead), {"panel": "secrets"}).status_code == 404


# ---- editing facts ------------------------------------------------------------------------------


def test_editing_a_fact_shows_its_form(rep_client, known_lead):
    response = rep_client.get(_fact(known_lead, "email"), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'hx-post="{_fact(known_lead, "email")}"' in html
    assert 'name="email"' in html and 'value="ana@globex.com"' in html


def test_without_javascript_editing_a_fact_opens_the_page_with_its_form(rep_client, known_lead):
    response = rep_client.get(_fact(known_lead, "email"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and 'id="transcript"' in html
    assert f'action="{_fact(known_lead, "email")}"' in html
    assert 'name="email"' in html and 'value="ana@globex.com"' in html


def test_without_javascript_a_saved_fact_returns_to_the_page(rep_client, known_lead):
    response = rep_client.post(_fact(known_lead, "company"), {"company": "Globex"})
    assert response.status_code == 302
    assert response["Location"] == _detail(known_lead)


def test_an_invalid_email_is_refused_with_its_error(rep_client, known_lead):
    response = rep_client.post(_fact(known_lead, "email"), {"email": "ana at globex"}, **HTMX)
    assert response.status_code == 422
    assert "Enter a valid email address." in response.content.decode()
    known_lead.refresh_from_db()
    assert known_lead.email == "ana@globex.com"


def test_a_phone_number_is_stored_in_e164_for_the_sites_region(rep_client, known_lead):
    assert known_lead.site.default_region == "US"
    rep_client.post(_fact(known_lead, "phone"), {"phone": "(415) 555-0123"}, **HTMX)
    known_lead.refresh_from_db()
    assert known_lead.phone == "+14155550123"


def test_a_budget_needs_a_currency(rep_client, known_lead):
    body = {"budget_amount": "5000", "budget_currency": ""}
    response = rep_client.post(_fact(known_lead, "budget"), body, **HTMX)
    assert response.status_code == 422
    assert "currency, e.g. USD" in response.content.decode()
    known_lead.refresh_from_db()
    assert known_lead.budget_amount is None


def test_a_saved_fact_refreshes_the_panel_and_tells_the_dashboards(
    rep_client, known_lead, rep, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(staff_group(known_lead.site_id), channel)
    body = {"budget_amount": "5000", "budget_currency": "eur"}
    with django_capture_on_commit_callbacks(execute=True):
        response = rep_client.post(_fact(known_lead, "budget"), body, **HTMX)
    assert response.status_code == 200
    assert 'id="facts"' in response.content.decode()
    frame = async_to_sync(asyncio.wait_for)(layer.receive(channel), 10)["frame"]
    assert frame == {"type": "lead", "lead": known_lead.id, "site": known_lead.site_id}
    known_lead.refresh_from_db()
    assert (str(known_lead.budget_amount), known_lead.budget_currency) == ("5000.00", "EUR")
    assert known_lead.evidence.filter(extractor=Evidence.Extractor.STAFF, author=rep).count() == 2


def test_the_decision_maker_form_shows_the_current_answer(rep_client, lead, rep):
    lead_facts_correct(lead=lead, values={"is_decision_maker": True}, by=rep)
    html = rep_client.get(_fact(lead, "is_decision_maker"), **HTMX).content.decode()
    assert '<option value="true" selected>Yes</option>' in html


def test_a_seat_count_too_big_to_store_is_refused(rep_client, lead):
    response = rep_client.post(_fact(lead, "seats"), {"seats": "9" * 20}, **HTMX)
    assert response.status_code == 422


def test_an_unknown_fact_is_not_found(rep_client, lead):
    assert rep_client.get(_fact(lead, "shoe_size")).status_code == 404


# ---- status, owner, notes, erasing --------------------------------------------------------------


def test_setting_the_status_locks_it(rep_client, lead, rep):
    response = rep_client.post(_action("lead-status", lead), {"status": "qualified"}, **HTMX)
    assert response.status_code == 200
    lead.refresh_from_db()
    assert (lead.status, lead.status_locked) == ("qualified", True)
    assert lead.events.get(kind=LeadEvent.Kind.STATUS).actor == rep


def test_auto_hands_the_status_back_to_scoring(rep_client, lead):
    Lead.objects.filter(id=lead.id).update(status=Lead.Status.ENGAGED, status_locked=True)
    rep_client.post(_action("lead-status", lead), {"status": "auto"}, **HTMX)
    lead.refresh_from_db()
    assert lead.status_locked is False


def test_an_unknown_status_is_refused(rep_client, lead):
    response = rep_client.post(_action("lead-status", lead), {"status": "hot"}, **HTMX)
    assert response.status_code == 422
    assert "unknown lead status" in response.content.decode()


def test_a_rep_assigns_a_lead_to_a_colleague(rep_client, lead, colleague):
    response = rep_client.post(_action("lead-owner", lead), {"owner": colleague.id}, **HTMX)
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.owner == colleague


def test_a_lead_cannot_go_to_someone_off_the_sites_team(rep_client, lead, outsider):
    response = rep_client.post(_action("lead-owner", lead), {"owner": outsider.id}, **HTMX)
    assert response.status_code == 422
    assert "sam is not on the team" in response.content.decode()


def test_an_empty_owner_unassigns_the_lead(rep_client, site, colleague):
    lead = lead_create(site, owner=colleague)
    rep_client.post(_action("lead-owner", lead), {"owner": ""}, **HTMX)
    lead.refresh_from_db()
    assert lead.owner is None


def test_a_note_is_added_to_the_history(rep_client, lead, rep):
    response = rep_client.post(_action("lead-note", lead), {"text": "Budget due in May"}, **HTMX)
    assert response.status_code == 200
    assert "Budget due in May" in response.content.decode()
    assert lead.events.get(kind=LeadEvent.Kind.NOTE).actor == rep


def test_an_empty_note_is_refused(rep_client, lead):
    response = rep_client.post(_action("lead-note", lead), {"text": "  "}, **HTMX)
    assert response.status_code == 422
    assert "The note is empty." in response.content.decode()


def test_erasing_needs_the_word_erase(rep_client, known_lead):
    response = rep_client.post(_action("lead-erase", known_lead), {"confirm": "yes"}, **HTMX)
    assert response.status_code == 422
    known_lead.refresh_from_db()
    assert known_lead.erased_at is None and known_lead.name == "Ana Torres"


def test_erasing_removes_the_persons_data_and_reloads_the_page(rep_client, known_lead):
    response = rep_client.post(_action("lead-erase", known_lead), {"confirm": "erase"}, **HTMX)
    assert response["HX-Redirect"] == _detail(known_lead)
    known_lead.refresh_from_db()
    assert known_lead.erased_at is not None and known_lead.name == ""
    assert not known_lead.evidence.exists()


def test_erasing_without_htmx_redirects_to_the_lead(rep_client, lead):
    response = rep_client.post(_action("lead-erase", lead), {"confirm": "erase"})
    assert (response.status_code, response["Location"]) == (302, _detail(lead))


@pytest.mark.parametrize("name", ["lead-status", "lead-owner", "lead-note", "takeover"])
def test_a_post_without_htmx_redirects_to_the_lead_page(rep_client, lead, name):
    response = rep_client.post(_action(name, lead), ACTIONS[name])
    assert (response.status_code, response["Location"]) == (302, _detail(lead))


def test_an_error_without_htmx_shows_the_whole_page_with_it(rep_client, lead):
    response = rep_client.post(_action("lead-note", lead), {"text": ""})
    html = response.content.decode()
    assert response.status_code == 422
    assert "<html" in html and "The note is empty." in html


# ---- taking the conversation over ---------------------------------------------------------------


def test_a_rep_takes_the_conversation_over(rep_client, lead, rep):
    response = rep_client.post(_action("takeover", lead), **HTMX)
    assert response.status_code == 200
    assert "You are in this conversation." in response.content.decode()
    lead.conversation.refresh_from_db()
    assert lead.conversation.agent == rep


def test_a_rep_cannot_take_over_from_a_colleague_without_force(rep_client, lead, colleague):
    conversation_takeover(conversation=lead.conversation, by=colleague)
    response = rep_client.post(_action("takeover", lead), **HTMX)
    assert response.status_code == 422
    assert "already in this conversation" in response.content.decode()


def test_a_rep_can_take_over_from_a_colleague_by_force(rep_client, lead, colleague, rep):
    conversation_takeover(conversation=lead.conversation, by=colleague)
    rep_client.post(_action("takeover", lead), {"force": "1"}, **HTMX)
    lead.conversation.refresh_from_db()
    assert lead.conversation.agent == rep


def test_a_rep_hands_the_conversation_back(rep_client, lead, rep):
    conversation_takeover(conversation=lead.conversation, by=rep)
    response = rep_client.post(_action("handback", lead), **HTMX)
    assert response.status_code == 200
    lead.conversation.refresh_from_db()
    assert lead.conversation.agent is None


def test_a_rep_in_the_conversation_writes_to_the_visitor(rep_client, lead, rep):
    conversation_takeover(conversation=lead.conversation, by=rep)
    response = rep_client.post(_action("agent-message", lead), {"text": "Hi, Rita here."}, **HTMX)
    assert response.status_code == 200
    message = lead.conversation.messages.get()
    assert (message.role, message.text, message.author) == ("agent", "Hi, Rita here.", rep)


def test_writing_without_taking_over_is_refused(rep_client, lead):
    response = rep_client.post(_action("agent-message", lead), {"text": "Hi there"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 422
    assert "Take the conversation over before you write to the visitor." in html
    assert not lead.conversation.messages.exists()


def test_a_suggestion_is_queued_and_named(rep_client, lead, rep, broker: EmbeddedRedis):
    conversation_takeover(conversation=lead.conversation, by=rep)
    response = rep_client.post(_action("suggest", lead), **HTMX)
    assert response.status_code == 202
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Suggestion"])
    queue = django_settings.CELERY_TASK_DEFAULT_QUEUE
    [raw] = redis.Redis.from_url(broker.url).lrange(queue, 0, -1)
    queued = json.loads(raw)
    args, _, _ = json.loads(base64.b64decode(queued["body"]))
    assert queued["headers"]["task"] == "leads.tasks.reply_suggest_task"
    assert args == [lead.conversation_id, response["X-Suggestion"]]


def test_a_suggestion_without_a_task_queue_is_unavailable(rep_client, lead, rep, broker):
    conversation_takeover(conversation=lead.conversation, by=rep)
    broker.stop()
    response = rep_client.post(_action("suggest", lead), **HTMX)
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")
    assert "Suggestions are unavailable just now" in response.content.decode()


# ---- the CSV export -----------------------------------------------------------------------------


def test_the_export_streams_a_csv_attachment(rep_client, lead):
    response = rep_client.get(EXPORT_URL)
    assert response.streaming is True
    assert response["Content-Type"].startswith("text/csv")
    assert re.fullmatch(
        r'attachment; filename="leads-\d{4}-\d{2}-\d{2}\.csv"', response["Content-Disposition"]
    )
    assert _csv(response)[0] == EXPORT_COLUMNS


def test_the_export_has_every_filtered_lead_not_just_the_first_page(rep_client, site, settings):
    settings.DASHBOARD_PAGE_SIZE = 2
    qualified = {lead_create(site, status=Lead.Status.QUALIFIED).id for _ in range(3)}
    lead_create(site, status=Lead.Status.NEW)
    rows = _csv(rep_client.get(EXPORT_URL, {"status": "qualified", "page": 1}))[1:]
    assert {int(row[0]) for row in rows} == qualified


def test_the_export_leaves_out_sites_the_rep_is_not_on(rep_client, lead, other_site):
    lead_create(other_site)
    rows = _csv(rep_client.get(EXPORT_URL))[1:]
    assert [int(row[0]) for row in rows] == [lead.id]


def test_the_export_defuses_cells_a_spreadsheet_would_run(rep_client, site):
    lead_create(site, company='=HYPERLINK("http://evil.example","x")', name="@SUM(A1)")
    header, row = _csv(rep_client.get(EXPORT_URL))
    values = dict(zip(header, row, strict=True))
    assert values["company"] == '\'=HYPERLINK("http://evil.example","x")'
    assert values["name"] == "'@SUM(A1)"


def test_the_export_has_the_first_and_last_contact(rep_client, site, rep):
    lead = lead_create(site, owner=rep)
    first, last = _say(lead, "Hi"), _say(lead, "Bye")
    start = timezone.now() - timedelta(days=2)
    _created(first, start)
    _created(last, start + timedelta(hours=5))
    header, row = _csv(rep_client.get(EXPORT_URL))
    values = dict(zip(header, row, strict=True))
    assert values["first_contact"] == start.isoformat()
    assert values["last_contact"] == (start + timedelta(hours=5)).isoformat()
    assert (values["site"], values["owner"]) == ("demo", "rita")


# ---- metrics ------------------------------------------------------------------------------------


def _replies(
    lead: Lead, first_token_ms: list[int], *, generation_ms: int = 1000, completion_tokens: int = 20
) -> None:
    """A visitor message and a finished assistant reply for each wait in `first_token_ms`."""
    for ms in first_token_ms:
        _say(
            lead,
            "Hello",
            role=Message.Role.ASSISTANT,
            in_reply_to=_say(lead, "Hi"),
            first_token_ms=ms,
            generation_ms=generation_ms,
            completion_tokens=completion_tokens,
        )


@pytest.fixture
def measured(site: Site, other_site: Site) -> Lead:
    """Five replies and a qualified lead on the rep's site; a slow reply on another site."""
    lead = lead_create(site, status=Lead.Status.QUALIFIED, qualified_at=timezone.now())
    _replies(lead, [300, 100, 1000, 200, 400])
    _replies(lead_create(other_site), [90_000], generation_ms=50_000, completion_tokens=9)
    return lead


def test_the_metrics_page_draws_four_charts(rep_client, measured):
    response = rep_client.get(METRICS_URL)
    assert response.status_code == 200
    assert response.content.decode().count("<svg") == 4


def test_the_metrics_give_the_median_and_p95_time_to_the_first_token(rep_client, measured):
    response = rep_client.get(METRICS_URL)
    m = response.context["m"]
    assert sorted(m.first_token_ms) == [100, 200, 300, 400, 1000]
    assert m.first_token_median_ms == 300
    assert m.first_token_p95_ms == pytest.approx(880)
    html = response.content.decode()
    assert '<span class="n">300 ms</span>' in html and '<span class="n">880 ms</span>' in html


def test_the_metrics_give_the_generation_speed(rep_client, measured):
    response = rep_client.get(METRICS_URL)
    assert response.context["m"].tokens_per_second == pytest.approx(20.0)  # 100 tokens in 5 s
    assert '<span class="n">20.0</span><span>tokens/s over 5 replies</span>' in (
        response.content.decode()
    )


def test_the_metrics_price_each_conversation_and_qualified_lead(rep_client, measured):
    for cost in (0.04, 0.06):
        ModelCall.objects.create(
            conversation=measured.conversation, role="reply", model="m", backend="fake",
            outcome="ok", total_ms=1000, cost=cost,
        )  # fmt: skip
    response = rep_client.get(METRICS_URL)
    costs = response.context["m"].costs
    assert (costs.total, costs.conversations, costs.qualified) == (pytest.approx(0.1), 1, 1)
    html = response.content.decode()
    assert '<span class="n">0.10 USD</span><span>model cost per qualified lead' in html
    assert '<span class="n">0.1000 USD</span><span>model cost per conversation' in html


def test_the_metrics_say_where_prices_are_set_when_nothing_cost_anything(rep_client, measured):
    response = rep_client.get(METRICS_URL)
    assert response.context["m"].costs.total == 0
    assert "(set the models' prices)" in response.content.decode()


def test_the_metrics_count_only_the_sites_the_rep_is_on(rep_client, measured):
    m = rep_client.get(METRICS_URL).context["m"]
    assert 90_000 not in m.first_token_ms
    assert (m.replies, m.conversations, m.qualified) == (5, 1, 1)
    assert [s.name for s in m.sites] == ["Acme Analytics"]


def test_a_superuser_sees_the_metrics_of_every_site(admin_client, measured):
    m = admin_client.get(METRICS_URL).context["m"]
    assert m.replies == 6 and 90_000 in m.first_token_ms


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4], 0.5, 2.5),
        ([1, 2, 3, 4], 0.95, 3.85),
        ([40, 10, 30, 20], 0.25, 17.5),
        ([7], 0.95, 7),
        ([1, 2, 3], 1.0, 3),
        ([1, 2, 3], 0.0, 1),
        ([], 0.5, None),
    ],
)
def test_percentile_interpolates_like_numpy(values, q, expected):
    assert percentile(values, q) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 1),
        (-3, 1),
        (1, 1),
        (1.5, 2),
        (2.2, 2.5),
        (3, 5),
        (7, 10),
        (30, 50),
        (0.3, 0.5),
        (999, 1000),
    ],
)
def test_nice_max_rounds_an_axis_up(value, expected):
    assert charts.nice_max(value) == pytest.approx(expected)


def test_close_markers_are_labelled_on_either_side_of_their_lines():
    chart = charts.histogram(
        [0.8] * 4, bins=20, title="Wait", markers=[(0.85, "p95"), (0.84, "median")]
    )
    assert [(m.label, m.anchor) for m in chart.markers] == [("median", "end"), ("p95", "start")]


def test_distant_markers_are_labelled_on_their_right():
    chart = charts.histogram(
        [0.1, 0.9], bins=20, title="Wait", markers=[(0.1, "median"), (0.9, "p95")]
    )
    assert [m.anchor for m in chart.markers] == ["start", "start"]


# ---- the admin ----------------------------------------------------------------------------------


@pytest.fixture
def everything(known_lead, rep) -> Lead:
    """A row of every model, so that each changelist has something to show."""
    Notification.objects.create(lead=known_lead, channel="email", target="sales@example.com")
    DashboardVisit.objects.create(user=rep, seen_at=timezone.now())
    return known_lead


@pytest.mark.parametrize(
    "model",
    [
        "site",
        "visitor",
        "conversation",
        "message",
        "lead",
        "evidence",
        "leadevent",
        "notification",
        "dashboardvisit",
    ],
)
def test_every_admin_changelist_renders(admin_client, everything, model):
    response = admin_client.get(reverse(f"admin:leads_{model}_changelist"))
    assert response.status_code == 200
    assert 'id="result_list"' in response.content.decode()


@pytest.mark.parametrize("model", ["leadevent", "conversation"])
def test_an_admin_changelist_reads_the_same_queries_for_more_rows(
    admin_client, site, rep, model, django_assert_max_num_queries
):
    def rows(n: int) -> None:
        for _ in range(n):
            lead = lead_create(site)
            conversation_takeover(conversation=lead.conversation, by=rep)  # an event, an agent

    url = reverse(f"admin:leads_{model}_changelist")
    rows(2)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    rows(6)
    with django_assert_max_num_queries(len(few)):
        admin_client.get(url)


def test_the_admin_lead_page_renders(admin_client, everything):
    response = admin_client.get(reverse("admin:leads_lead_change", args=[everything.id]))
    assert response.status_code == 200
    assert "My name is Ana Torres" in response.content.decode()


def _admin_action(admin_client, action: str, *leads: Lead):  # type: ignore[no-untyped-def]
    return admin_client.post(
        reverse("admin:leads_lead_changelist"),
        {"action": action, "_selected_action": [lead.id for lead in leads]},
    )


def test_the_admin_exports_the_selected_leads_as_csv(admin_client, site):
    chosen, _ = lead_create(site, name="Ana"), lead_create(site, name="Bob")
    response = _admin_action(admin_client, "export_csv", chosen)
    assert response.streaming is True
    rows = _csv(response)
    assert rows[0] == EXPORT_COLUMNS
    assert [(int(row[0]), row[2]) for row in rows[1:]] == [(chosen.id, "Ana")]


def test_staff_with_admin_rights_on_no_team_see_and_export_nothing_in_the_admin(client, site):
    clerk = staff_user("clerk")  # on no site's team: the dashboard shows them nothing
    clerk.user_permissions.add(Permission.objects.get(codename="view_lead"))
    client.force_login(clerk)
    lead = lead_create(site, name="Ana")
    # Nor does the admin (its querysets are scoped to the user's teams): nothing to export.
    rows = _csv(_admin_action(client, "export_csv", lead))
    assert rows[1:] == []  # the header alone
    listing = client.get("/admin/leads/lead/")
    assert not listing.context["cl"].queryset.exists()


@pytest.mark.parametrize(
    ("action", "status"),
    [("mark_qualified", "qualified"), ("mark_disqualified", "disqualified")],
)
def test_the_admin_sets_the_status_of_the_selected_leads(admin_client, site, action, status):
    leads = [lead_create(site), lead_create(site)]
    assert _admin_action(admin_client, action, *leads).status_code == 302
    assert set(Lead.objects.values_list("status", "status_locked")) == {(status, True)}


def test_the_admin_erases_the_selected_leads(admin_client, known_lead):
    assert _admin_action(admin_client, "erase", known_lead).status_code == 302
    known_lead.refresh_from_db()
    assert known_lead.erased_at is not None and known_lead.name == ""


def test_the_admin_shows_a_conversations_messages_read_only(admin_client, known_lead):
    url = reverse("admin:leads_conversation_change", args=[known_lead.conversation_id])
    html = admin_client.get(url).content.decode()
    assert "Thanks Ana! What does Globex need?" in html
    assert 'name="messages-0-text"' not in html
    assert 'name="messages-TOTAL_FORMS"' in html


# ---- an erased lead stays erased ----------------------------------------------------------------


@pytest.fixture
def erased(lead: Lead, rep) -> Lead:  # type: ignore[no-untyped-def]
    from leads.services.leads import lead_erase

    return lead_erase(lead=lead, by=rep)


def test_an_erased_lead_takes_no_new_facts(rep_client, erased):
    url = reverse("dashboard:lead-fact", args=[erased.id, "email"])
    response = rep_client.post(url, {"email": "back@example.com"}, **HTMX)
    assert response.status_code == 422
    assert "erased" in response.content.decode()
    erased.refresh_from_db()
    assert erased.email == ""


def test_an_erased_lead_takes_no_notes(rep_client, erased):
    response = rep_client.post(_action("lead-note", erased), {"text": "x@y.example"}, **HTMX)
    assert response.status_code == 422
    assert not erased.events.filter(kind="note").exists()


def test_an_erased_conversation_cannot_be_taken_over(rep_client, erased):
    response = rep_client.post(_action("takeover", erased), **HTMX)
    assert response.status_code == 422
    assert "erased" in response.content.decode()


def test_a_suggestion_needs_the_conversation_taken_over(rep_client, lead):
    response = rep_client.post(_action("suggest", lead), **HTMX)
    assert response.status_code == 409
    assert "Take the conversation over" in response.content.decode()
