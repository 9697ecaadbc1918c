"""What staff do to a lead from the dashboard: correct facts, assign, annotate, erase, take over."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.errors import LeadActionRefused, TakeoverRefused, TextInvalid
from leads.models import (
    Conversation,
    DashboardVisit,
    Evidence,
    Lead,
    LeadEvent,
    Message,
)
from leads.selectors.access import leads_visible
from leads.selectors.conversations import visitor_messages_unanswered
from leads.services import history
from leads.services.facts import facts_settle, lead_facts_correct
from leads.services.leads import (
    NOTE_MAX_CHARS,
    dashboard_seen_mark,
    lead_erase,
    lead_note_add,
    lead_owner_assign,
)
from leads.services.messages import message_receive
from leads.services.qualification import lead_status_set, lead_status_unlock
from leads.services.replies import reply_generate
from leads.services.takeover import (
    agent_display_name,
    agent_message_send,
    conversation_handback,
    conversation_takeover,
)
from llm.backends.fake import FakeLLM
from salesbot.embedded_redis import EmbeddedRedis
from tests.leads.factories import message_add, staff_user

pytestmark = pytest.mark.django_db

REPLY_TASK = "leads.tasks.reply_generate_task"
EXTRACT_TASK = "leads.tasks.lead_extract_task"


def _queued(server: EmbeddedRedis, task: str) -> int:
    """How many `task` messages wait in the broker's queue for it."""
    queue = (
        django_settings.EXTRACTION_QUEUE
        if task == EXTRACT_TASK
        else django_settings.CELERY_TASK_DEFAULT_QUEUE
    )
    raw = redis.Redis.from_url(server.url).lrange(queue, 0, -1)
    return sum(json.loads(item)["headers"]["task"] == task for item in raw)


def _evidence(lead: Lead, message: Message, field: str, value: object, quote: str) -> Evidence:
    return Evidence.objects.create(
        lead=lead,
        message=message,
        field=field,
        value=value,
        quote=quote,
        extractor=Evidence.Extractor.RULES,
        confidence=0.9,
    )


@pytest.fixture
def conversation(lead: Lead) -> Conversation:
    return lead.conversation


@pytest.fixture
def known_lead(lead: Lead, conversation: Conversation) -> Lead:
    """A lead whose name, email and company rest on evidence from a visitor message."""
    message = message_add(conversation, "I'm Ana Torres from Globex, ana@globex.com")
    _evidence(lead, message, "name", "Ana Torres", "I'm Ana Torres")
    _evidence(lead, message, "email", "ana@globex.com", "ana@globex.com")
    _evidence(lead, message, "company", "Globex", "from Globex")
    facts_settle(lead=lead)
    lead.refresh_from_db()
    return lead


# ---- correcting facts ---------------------------------------------------------------------------


def test_a_correction_is_stored_as_staff_evidence_by_its_author(known_lead, rep):
    lead_facts_correct(lead=known_lead, values={"name": "Ana Torres-Ruiz"}, by=rep)
    evidence = known_lead.evidence.get(extractor=Evidence.Extractor.STAFF)
    assert (evidence.field, evidence.value, evidence.author) == ("name", "Ana Torres-Ruiz", rep)
    assert evidence.message is None and evidence.current is True


def test_a_correction_gives_the_lead_the_value(known_lead, rep):
    changed = lead_facts_correct(lead=known_lead, values={"name": "Ana Torres-Ruiz"}, by=rep)
    assert changed == ["name"]
    assert known_lead.name == "Ana Torres-Ruiz"
    known_lead.refresh_from_db()
    assert (known_lead.name, known_lead.email) == ("Ana Torres-Ruiz", "ana@globex.com")


def test_a_later_extraction_does_not_override_a_staff_correction(known_lead, rep, conversation):
    lead_facts_correct(lead=known_lead, values={"company": "Initech"}, by=rep)
    later = message_add(conversation, "Actually we are Globex Corp")
    _evidence(known_lead, later, "company", "Globex Corp", "we are Globex Corp")
    facts_settle(lead=known_lead)
    known_lead.refresh_from_db()
    assert known_lead.company == "Initech"
    assert known_lead.evidence.get(value="Globex Corp").current is False


def test_clearing_a_fact_empties_it(known_lead, rep):
    lead_facts_correct(lead=known_lead, values={"email": None}, by=rep)
    known_lead.refresh_from_db()
    assert known_lead.email == ""
    assert known_lead.evidence.get(extractor=Evidence.Extractor.STAFF).value is None


def test_a_cleared_fact_stays_empty_after_a_later_extraction(known_lead, rep, conversation):
    lead_facts_correct(lead=known_lead, values={"email": None}, by=rep)
    later = message_add(conversation, "write to ana@initech.com")
    _evidence(known_lead, later, "email", "ana@initech.com", "ana@initech.com")
    facts_settle(lead=known_lead)
    known_lead.refresh_from_db()
    assert known_lead.email == ""


def test_correcting_an_unknown_fact_is_refused(known_lead, rep):
    with pytest.raises(ValueError, match="unknown lead facts shoe_size"):
        lead_facts_correct(lead=known_lead, values={"shoe_size": 42}, by=rep)
    assert not known_lead.evidence.filter(extractor=Evidence.Extractor.STAFF).exists()


def test_a_correction_is_recorded_in_the_history_with_its_actor(known_lead, rep):
    lead_facts_correct(lead=known_lead, values={"name": "Ana Torres-Ruiz"}, by=rep)
    event = known_lead.events.get(kind=LeadEvent.Kind.FIELD, field="name", actor=rep)
    assert (event.old, event.new) == ("Ana Torres", "Ana Torres-Ruiz")


def test_a_correction_to_the_same_value_changes_nothing(known_lead, rep):
    assert lead_facts_correct(lead=known_lead, values={"name": "ana torres"}, by=rep) == []
    assert not known_lead.evidence.filter(extractor=Evidence.Extractor.STAFF).exists()


# ---- owners -------------------------------------------------------------------------------------


def test_assigning_an_owner_sets_it(lead, rep, colleague):
    lead_owner_assign(lead=lead, owner=colleague, by=rep)
    lead.refresh_from_db()
    assert lead.owner == colleague


def test_assigning_an_owner_is_recorded_in_the_history(lead, rep, colleague):
    lead_owner_assign(lead=lead, owner=colleague, by=rep)
    event = lead.events.get(kind=LeadEvent.Kind.OWNER)
    assert (event.actor, event.old, event.new) == (rep, None, "oscar")


def test_a_rep_not_on_the_sites_team_cannot_own_its_lead(lead, rep):
    stranger = staff_user("sam")
    with pytest.raises(LeadActionRefused, match="sam is not on the team"):
        lead_owner_assign(lead=lead, owner=stranger, by=rep)
    lead.refresh_from_db()
    assert lead.owner is None


def test_a_superuser_can_own_a_lead_of_any_site(lead, rep, admin_user):
    lead_owner_assign(lead=lead, owner=admin_user, by=rep)
    lead.refresh_from_db()
    assert lead.owner == admin_user


def test_assigning_nobody_unassigns(lead, rep, colleague):
    lead_owner_assign(lead=lead, owner=colleague, by=rep)
    lead_owner_assign(lead=lead, owner=None, by=rep)
    lead.refresh_from_db()
    assert lead.owner is None
    assert lead.events.filter(kind=LeadEvent.Kind.OWNER).first().new is None


# ---- notes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n "])
def test_an_empty_note_is_refused(lead, rep, text):
    with pytest.raises(TextInvalid, match="empty"):
        lead_note_add(lead=lead, text=text, by=rep)


def test_a_note_too_long_is_refused(lead, rep):
    with pytest.raises(TextInvalid, match=str(NOTE_MAX_CHARS)):
        lead_note_add(lead=lead, text="x" * (NOTE_MAX_CHARS + 1), by=rep)
    assert not lead.events.exists()


def test_a_note_is_stored_in_the_history(lead, rep):
    lead_note_add(lead=lead, text="  Call back on Monday.  ", by=rep)
    event = lead.events.get()
    assert (event.kind, event.text, event.actor) == (
        LeadEvent.Kind.NOTE,
        "Call back on Monday.",
        rep,
    )


# ---- erasing ------------------------------------------------------------------------------------


@pytest.fixture
def erased(known_lead, rep, conversation):  # type: ignore[no-untyped-def]
    """`known_lead` with a score, a locked status, a note and a reply, then erased."""
    Lead.objects.filter(id=known_lead.id).update(score=45, status=Lead.Status.ENGAGED)
    reply = message_add(conversation, "Nice to meet you, Ana!", role=Message.Role.ASSISTANT)
    Message.objects.filter(id=reply.id).update(
        turn_note='Note. New about the visitor: name "Ana".',
        withheld=[{"sentence": "I'm Ana from Initech.", "failures": ["echo"]}],
    )
    lead_note_add(lead=known_lead, text="Ana prefers email", by=rep)
    lead_status_set(lead=known_lead, status=Lead.Status.QUALIFIED, by=rep)
    lead_erase(lead=known_lead, by=rep)
    known_lead.refresh_from_db()
    return known_lead


def test_erasing_clears_the_facts(erased):
    assert (erased.name, erased.email, erased.company) == ("", "", "")
    assert erased.declined_fields == []


def test_erasing_deletes_the_evidence(erased):
    assert not Evidence.objects.filter(lead=erased).exists()


def test_erasing_blanks_the_transcript_its_notes_and_withheld_sentences(erased):
    rows = erased.conversation.messages.values_list("text", "turn_note", "withheld")
    assert list(rows) == [("", "", []), ("", "", [])]


def test_erasing_rotates_the_visitor_token(erased):
    erased.visitor.refresh_from_db()
    assert erased.visitor.token != "dashboard-services"


def test_erasing_deletes_notes_and_the_history_of_values(erased):
    kinds = set(erased.events.values_list("kind", flat=True))
    assert LeadEvent.Kind.FIELD not in kinds and LeadEvent.Kind.NOTE not in kinds
    assert LeadEvent.Kind.STATUS in kinds


def test_erasing_keeps_the_status_and_score(erased):
    assert (erased.status, erased.status_locked, erased.score) == (
        Lead.Status.QUALIFIED,
        True,
        45,
    )


def test_erasing_records_when_and_by_whom(erased, rep):
    assert erased.erased_at is not None
    assert erased.events.filter(kind=LeadEvent.Kind.ERASED, actor=rep).count() == 1


def test_erasing_takes_the_rep_out_of_the_conversation_and_they_cannot_write(
    known_lead, rep, conversation
):
    conversation_takeover(conversation=conversation, by=rep)
    lead_erase(lead=known_lead, by=rep)
    conversation.refresh_from_db()
    assert conversation.agent_id is None
    with pytest.raises(TakeoverRefused, match="erased"):
        agent_message_send(conversation=conversation, text="Still there?", by=rep)
    assert not conversation.messages.filter(role=Message.Role.AGENT).exists()


def test_counting_the_visible_leads_reads_no_messages(rep, lead):
    with CaptureQueriesContext(connection) as queries:
        assert leads_visible(user=rep).count() == 1
    assert "leads_message" not in queries[-1]["sql"]


@pytest.fixture
def staff_frames(monkeypatch):  # type: ignore[no-untyped-def]
    """The frames sent to the staff dashboards (the channel layer is tested elsewhere)."""
    sent: list[dict] = []
    monkeypatch.setattr(history, "staff_send", lambda *, site_id, frame: sent.append(frame))
    return sent


def test_locking_the_status_as_it_is_tells_the_dashboards(
    lead, rep, staff_frames, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead_status_set(lead=lead, status=lead.status, by=rep)
    assert staff_frames == [{"type": "lead", "lead": lead.id, "site": lead.site_id}]


def test_unlocking_the_status_tells_the_dashboards(
    lead, staff_frames, django_capture_on_commit_callbacks
):
    Lead.objects.filter(id=lead.id).update(status_locked=True)
    lead.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        lead_status_unlock(lead=lead)
    assert {"type": "lead", "lead": lead.id, "site": lead.site_id} in staff_frames


# ---- the list's "new since last visit" ----------------------------------------------------------


def test_the_first_look_at_the_list_has_no_previous_visit(rep):
    assert dashboard_seen_mark(user=rep) is None
    assert DashboardVisit.objects.filter(user=rep).exists()


def test_a_later_look_returns_the_time_of_the_previous_one(rep):
    dashboard_seen_mark(user=rep)
    before = timezone.now() - timedelta(hours=3)
    DashboardVisit.objects.filter(user=rep).update(seen_at=before)
    assert dashboard_seen_mark(user=rep) == before
    assert DashboardVisit.objects.get(user=rep).seen_at > before


# ---- the status ---------------------------------------------------------------------------------


def test_setting_the_status_is_recorded_with_its_actor(lead, rep):
    lead_status_set(lead=lead, status=Lead.Status.DISQUALIFIED, by=rep)
    event = lead.events.get(kind=LeadEvent.Kind.STATUS)
    assert (event.actor, event.old, event.new) == (rep, "new", "disqualified")


# ---- taking a conversation over -----------------------------------------------------------------


def test_taking_over_makes_the_rep_the_agent(conversation, rep):
    conversation_takeover(conversation=conversation, by=rep)
    conversation.refresh_from_db()
    assert conversation.agent == rep and conversation.agent_since is not None


def test_a_visitor_sees_a_reps_first_name_or_the_sites_never_the_username(conversation, rep):
    assert agent_display_name(rep, team=conversation.site.name) == "Acme Analytics"
    rep.first_name = "Rita"
    assert agent_display_name(rep, team=conversation.site.name) == "Rita"
    assert "rita" not in agent_display_name(staff_user("sam.k"), team="Acme").lower()


def test_taking_over_is_recorded_in_the_leads_history(conversation, rep):
    conversation_takeover(conversation=conversation, by=rep)
    lead = Lead.objects.get(conversation=conversation)
    assert lead.events.filter(kind=LeadEvent.Kind.TAKEOVER, actor=rep).exists()


def test_a_second_rep_cannot_take_over_a_held_conversation(conversation, rep, colleague):
    conversation_takeover(conversation=conversation, by=rep)
    with pytest.raises(TakeoverRefused, match="already in this conversation"):
        conversation_takeover(conversation=conversation, by=colleague)
    conversation.refresh_from_db()
    assert conversation.agent == rep


def test_a_second_rep_can_take_over_by_force(conversation, rep, colleague):
    conversation_takeover(conversation=conversation, by=rep)
    conversation_takeover(conversation=conversation, by=colleague, force=True)
    conversation.refresh_from_db()
    assert conversation.agent == colleague


def test_only_the_rep_holding_the_conversation_may_write(conversation, rep, colleague):
    conversation_takeover(conversation=conversation, by=rep)
    with pytest.raises(TakeoverRefused, match="Take the conversation over"):
        agent_message_send(conversation=conversation, text="Hello", by=colleague)
    assert not conversation.messages.exists()


def test_a_rep_must_take_over_before_writing(conversation, rep):
    with pytest.raises(TakeoverRefused, match="Take the conversation over"):
        agent_message_send(conversation=conversation, text="Hello", by=rep)


@pytest.mark.parametrize("text", ["", "  ", "x" * 2001])
def test_an_empty_or_too_long_agent_message_is_refused(conversation, rep, settings, text):
    settings.CHAT_MAX_MESSAGE_CHARS = 2000
    conversation_takeover(conversation=conversation, by=rep)
    with pytest.raises(TextInvalid):
        agent_message_send(conversation=conversation, text=text, by=rep)
    assert not conversation.messages.exists()


def test_an_agent_message_is_stored_with_its_author(conversation, rep):
    conversation_takeover(conversation=conversation, by=rep)
    message = agent_message_send(conversation=conversation, text=" Hi, I'm Rita. ", by=rep)
    stored = Message.objects.get(id=message.id)
    assert (stored.role, stored.text, stored.author) == (Message.Role.AGENT, "Hi, I'm Rita.", rep)


def test_a_visitor_message_in_a_taken_over_conversation_queues_no_reply(
    broker, conversation, rep, django_capture_on_commit_callbacks
):
    conversation_takeover(conversation=conversation, by=rep)
    with django_capture_on_commit_callbacks(execute=True):
        message_receive(conversation=conversation, text="Anyone there?", client_id=uuid.uuid4())
    assert _queued(broker, REPLY_TASK) == 0
    assert _queued(broker, EXTRACT_TASK) == 1


def test_a_visitor_message_otherwise_queues_its_reply_and_extraction(
    broker, conversation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message_receive(conversation=conversation, text="Anyone there?", client_id=uuid.uuid4())
    assert (_queued(broker, REPLY_TASK), _queued(broker, EXTRACT_TASK)) == (1, 1)


def _unanswered() -> list[Message]:
    now = timezone.now()
    return list(
        visitor_messages_unanswered(
            created_after=now - timedelta(days=1), created_before=now + timedelta(seconds=1)
        )
    )


def test_messages_of_a_taken_over_conversation_are_not_left_unanswered(conversation, rep):
    message_add(conversation, "Hello?")
    conversation_takeover(conversation=conversation, by=rep)
    assert _unanswered() == []


def test_a_message_a_rep_answered_is_not_left_unanswered(conversation, rep):
    answered = message_add(conversation, "Hello?")
    conversation_takeover(conversation=conversation, by=rep)
    agent_message_send(conversation=conversation, text="Hi!", by=rep)
    conversation_handback(conversation=conversation, by=rep)
    later = message_add(conversation, "Thanks")
    assert _unanswered() == [later]
    assert answered not in _unanswered()


def test_handing_back_clears_the_agent(conversation, rep):
    conversation_takeover(conversation=conversation, by=rep)
    conversation_handback(conversation=conversation, by=rep)
    conversation.refresh_from_db()
    assert (conversation.agent, conversation.agent_since) == (None, None)
    lead = Lead.objects.get(conversation=conversation)
    assert lead.events.filter(kind=LeadEvent.Kind.HANDBACK, actor=rep).exists()


def test_handing_back_queues_a_reply_to_a_trailing_visitor_message(
    broker, conversation, rep, django_capture_on_commit_callbacks
):
    conversation_takeover(conversation=conversation, by=rep)
    message_add(conversation, "Still there?")
    with django_capture_on_commit_callbacks(execute=True):
        conversation_handback(conversation=conversation, by=rep)
    assert _queued(broker, REPLY_TASK) == 1
    assert _queued(broker, EXTRACT_TASK) == 0  # it was extracted when it came in


def test_handing_back_with_the_broker_down_still_hands_back(
    broker, conversation, rep, django_capture_on_commit_callbacks
):
    conversation_takeover(conversation=conversation, by=rep)
    question = message_add(conversation, "Still there?")
    broker.stop()
    with django_capture_on_commit_callbacks(execute=True):
        conversation_handback(conversation=conversation, by=rep)
    conversation.refresh_from_db()
    assert conversation.agent is None
    # The worker queues it again when it starts (replies_requeue).
    window = {"created_after": question.created - timedelta(seconds=1)}
    assert question in visitor_messages_unanswered(**window, created_before=timezone.now())


def test_a_visitor_message_sent_again_while_taken_over_is_extracted_again(
    broker, conversation, rep, django_capture_on_commit_callbacks
):
    conversation_takeover(conversation=conversation, by=rep)
    client_id = uuid.uuid4()
    message_receive(conversation=conversation, text="Ana here", client_id=client_id)
    # Its first queueing was lost (nothing captured the commit); the widget sends it again.
    message_receive(conversation=conversation, text="Ana here", client_id=client_id)
    assert (_queued(broker, REPLY_TASK), _queued(broker, EXTRACT_TASK)) == (0, 1)


def test_handing_back_after_the_rep_answered_queues_nothing(
    broker, conversation, rep, django_capture_on_commit_callbacks
):
    conversation_takeover(conversation=conversation, by=rep)
    message_add(conversation, "Still there?")
    agent_message_send(conversation=conversation, text="Yes!", by=rep)
    with django_capture_on_commit_callbacks(execute=True):
        conversation_handback(conversation=conversation, by=rep)
    assert _queued(broker, REPLY_TASK) == 0


def test_the_assistant_does_not_reply_in_a_taken_over_conversation(conversation, rep):
    message = message_add(conversation, "Hello?")
    conversation_takeover(conversation=conversation, by=rep)
    model = FakeLLM()
    assert reply_generate(message_id=message.id, task_id="t", model=model) is None
    assert not Message.objects.filter(role=Message.Role.ASSISTANT).exists()
    assert model.prompts == []
