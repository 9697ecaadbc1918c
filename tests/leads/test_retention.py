"""A person's data across Sites (found, exported, erased) and each Site's retention period (the
daily purge)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from leads.models import Conversation, Lead, Message, Site, Visitor
from leads.selectors.people import person_leads
from leads.services.conversations import conversation_resume_or_start
from leads.services.messages import message_receive
from leads.services.retention import conversations_purge, person_erase
from leads.tasks import purge_leads_task
from salesbot.celery import app as celery_app

pytestmark = pytest.mark.django_db


def _chat(site: Site, *texts: str) -> Lead:
    conversation = conversation_resume_or_start(site=site, visitor_token=None)
    for text in texts:
        message_receive(conversation=conversation, text=text, client_id=uuid.uuid4())
    return Lead.objects.get(conversation=conversation)


@pytest.fixture
def ana(site, other_site):  # type: ignore[no-untyped-def]
    """Ana on two Sites (by email on one, by phone on the other), and Bo, someone else."""
    return (
        _chat(site, "I'm Ana Torres, ana@lumio.io"),
        _chat(other_site, "Ana here, call me on (415) 555-0123"),
        _chat(site, "I'm Bo Chen, bo@initech.example, 415 555 0199"),
    )


def test_a_person_is_found_on_every_site_by_email_or_phone(ana):
    on_site, on_other, _ = ana
    found = person_leads(email=" ANA@lumio.io ", phone="415-555-0123")
    assert list(found) == [on_site, on_other]
    assert list(person_leads(phone="+1 415 555 0123")) == [on_other]


def test_a_person_is_found_by_an_email_they_gave_before_changing_it(ana):
    on_site = ana[0]
    Lead.objects.filter(id=on_site.id).update(email="ana.torres@lumio.io")
    assert list(person_leads(email="ana@lumio.io")) == [on_site]


def test_erasing_a_person_erases_every_lead_of_theirs_and_no_other(ana):
    on_site, on_other, bo = ana
    erased = person_erase(email="ana@lumio.io", phone="(415) 555-0123", by=None)
    assert {lead.id for lead in erased} == {on_site.id, on_other.id}
    assert Lead.objects.get(id=bo.id).erased_at is None
    assert Lead.objects.get(id=bo.id).email == "bo@initech.example"
    texts = Message.objects.filter(conversation__lead__in=[on_site, on_other])
    assert set(texts.values_list("text", flat=True)) == {""}
    assert person_erase(email="ana@lumio.io", by=None) == []  # already done


def test_the_export_holds_all_that_is_kept_about_the_person(ana, tmp_path):
    out = tmp_path / "ana.json"
    call_command("export_person", email="ana@lumio.io", phone="4155550123", out=str(out))
    export = json.loads(out.read_text())
    assert [item["site"]["key"] for item in export["leads"]] == ["demo", "other"]
    first = export["leads"][0]
    assert first["lead"]["email"] == "ana@lumio.io"
    assert first["messages"][0] == {
        "role": "visitor",
        "text": "I'm Ana Torres, ana@lumio.io",
        "created": first["messages"][0]["created"],
    }
    assert {e["field"] for e in first["evidence"]} >= {"name", "email"}
    assert "bo@initech.example" not in out.read_text()


def test_the_erase_command_lists_until_told_yes(ana, capsys):
    call_command("erase_person", email="ana@lumio.io")
    assert "1 lead(s) found; add --yes" in capsys.readouterr().out
    assert Lead.objects.filter(erased_at__isnull=False).count() == 0
    call_command("erase_person", email="ana@lumio.io", yes=True)
    assert "erased 1 lead(s)" in capsys.readouterr().out


@pytest.mark.parametrize("args", [{}, {"phone": "not a number"}])
def test_the_commands_say_what_to_give(args):
    with pytest.raises(CommandError):
        call_command("export_person", **args)


def _aged(lead: Lead, days: int) -> None:
    then = timezone.now() - timedelta(days=days)
    Message.objects.filter(conversation=lead.conversation_id).update(created=then)
    Conversation.objects.filter(id=lead.conversation_id).update(created=then)


def test_the_purge_deletes_what_is_older_than_the_sites_retention(site, other_site):
    Site.objects.filter(id=site.id).update(retention_days=30)
    old, recent = _chat(site, "old news"), _chat(site, "still talking")
    elsewhere = _chat(other_site, "no retention here")
    for lead, days in ((old, 40), (recent, 10), (elsewhere, 400)):
        _aged(lead, days)
    empty = conversation_resume_or_start(site=site, visitor_token=None)  # never said a word
    Conversation.objects.filter(id=empty.id).update(created=timezone.now() - timedelta(days=31))

    assert [(p.site, p.conversations) for p in conversations_purge(dry_run=True)] == [("demo", 2)]
    assert Conversation.objects.count() == 4  # a dry run deletes nothing
    purge_leads_task()
    assert set(Lead.objects.values_list("id", flat=True)) == {recent.id, elsewhere.id}
    assert not Conversation.objects.filter(id=empty.id).exists()
    assert not Visitor.objects.filter(id=old.visitor_id).exists()


def test_the_purge_runs_daily_under_beat():
    schedule = celery_app.conf.beat_schedule["purge-leads"]
    assert schedule["task"] == purge_leads_task.name
    assert schedule["schedule"].remaining_estimate(timezone.now()) <= timedelta(days=1)
