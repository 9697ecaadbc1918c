"""Handing qualified leads to people: a signed webhook to a real local HTTP server, and email."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from decimal import Decimal

import pytest
import redis
from django.contrib.auth import get_user_model
from django.utils import timezone

from leads.models import Conversation, Evidence, Lead, Message, Notification, Site, Visitor
from leads.services.notifications import (
    NotificationFailed,
    lead_qualified_notify,
    notification_retry_delay,
    notification_send,
)
from leads.services.webhooks import lead_admin_url, lead_payload
from leads.signing import webhook_signature, webhook_verify
from leads.tasks import notification_send_task
from tests.receiver import Receiver

pytestmark = pytest.mark.django_db

SECRET = "whsec_test"


def _lead(site: Site, **fields: object) -> Lead:
    visitor = Visitor.objects.create(site=site, token=f"token-{Visitor.objects.count()}")
    conversation = Conversation.objects.create(site=site, visitor=visitor)
    return Lead.objects.create(
        site=site,
        visitor=visitor,
        conversation=conversation,
        status=Lead.Status.QUALIFIED,
        qualified_at=timezone.now(),
        **fields,
    )


@pytest.fixture
def site(receiver: Receiver) -> Site:
    return Site.objects.create(
        key="acme",
        name="Acme Analytics",
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        sales_email="sales@acme.test",
    )


@pytest.fixture
def lead(site: Site) -> Lead:
    lead = _lead(
        site,
        name="Dana Whitfield",
        email="dana@northwind.test",
        phone="+14155550123",
        company="Northwind",
        job_title="Head of Sales",
        budget_amount=Decimal("12000.50"),
        budget_currency="EUR",
        seats=40,
        timeline_months=3,
        is_decision_maker=True,
        need="Dashboards for a 40-person sales team",
        score=85,
    )
    message = Message.objects.create(
        conversation=lead.conversation, role=Message.Role.VISITOR, text="We have about 12k euros."
    )
    Evidence.objects.create(
        lead=lead,
        field="budget_amount",
        value="12000.50",
        message=message,
        quote="about 12k euros",
        extractor=Evidence.Extractor.RULES,
        confidence=0.9,
        current=True,
    )
    return lead


def _webhook(lead: Lead) -> Notification:
    return next(n for n in lead_qualified_notify(lead=lead) if n.channel == "webhook")


def _email(lead: Lead) -> Notification:
    return next(n for n in lead_qualified_notify(lead=lead) if n.channel == "email")


def test_the_signature_verifies_with_the_secret_and_the_exact_body(lead, receiver):
    notification_send(notification_id=_webhook(lead).id)
    [request] = receiver.requests
    header = request.headers["X-Salesbot-Signature"]
    assert webhook_verify(secret=SECRET, header=header, body=request.body)
    # The documented recipe, with nothing but the standard library.
    parts = dict(part.split("=", 1) for part in header.split(","))
    signed = parts["t"].encode() + b"." + request.body
    assert parts["v1"] == hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert abs(int(parts["t"]) - time.time()) < 60


def test_a_tampered_body_a_wrong_secret_or_an_old_timestamp_is_rejected():
    body, now = b'{"id":"lead-1-qualified"}', 1_700_000_000
    header = f"t={now},v1={webhook_signature(secret=SECRET, timestamp=now, body=body)}"
    assert webhook_verify(secret=SECRET, header=header, body=body, now=now + 299)
    assert not webhook_verify(secret=SECRET, header=header, body=body + b" ", now=now)
    assert not webhook_verify(secret="whsec_other", header=header, body=body, now=now)
    assert not webhook_verify(secret=SECRET, header=header, body=body, now=now + 301)
    assert not webhook_verify(secret=SECRET, header=header, body=body, now=now - 301)
    assert not webhook_verify(secret=SECRET, header="v1=abc", body=body, now=now)
    assert not webhook_verify(secret=SECRET, header="garbage", body=body, now=now)


def test_a_rotated_secret_may_sign_beside_the_old_one():
    body, now = b"{}", 1_700_000_000
    old = webhook_signature(secret="whsec_old", timestamp=now, body=body)
    new = webhook_signature(secret=SECRET, timestamp=now, body=body)
    header = f"t={now},v1={old},v1={new}"
    assert webhook_verify(secret=SECRET, header=header, body=body, now=now)


def test_the_webhook_carries_event_delivery_and_type_headers(lead, receiver):
    notification_send(notification_id=_webhook(lead).id)
    [request] = receiver.requests
    assert request.path == "/hooks/salesbot"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Salesbot-Event"] == "lead.qualified"
    assert request.headers["X-Salesbot-Delivery"] == f"lead-{lead.id}-qualified"
    assert request.headers["User-Agent"].startswith("salesbot/")
    lead.conversation.refresh_from_db()  # the summary written before sending
    assert json.loads(request.body) == json.loads(json.dumps(lead_payload(lead=lead)))


def test_the_payload_describes_the_lead_and_the_quotes_behind_it(lead):
    payload = json.loads(json.dumps(lead_payload(lead=lead)))
    assert payload["id"] == f"lead-{lead.id}-qualified"
    assert payload["event"] == "lead.qualified"
    assert payload["occurred_at"] == lead.qualified_at.isoformat()
    assert payload["site"] == {"key": "acme", "name": "Acme Analytics"}
    data = payload["lead"]
    assert data["budget_amount"] == "12000.50"  # a string: no float rounding of money
    assert (data["budget_currency"], data["seats"], data["timeline_months"]) == ("EUR", 40, 3)
    assert (data["name"], data["email"], data["company"]) == (
        "Dana Whitfield",
        "dana@northwind.test",
        "Northwind",
    )
    assert (data["is_decision_maker"], data["score"], data["status"]) == (True, 85, "qualified")
    assert data["conversation_id"] == lead.conversation_id
    assert data["owner"] is None
    assert data["url"].startswith("http://localhost:8000/admin/leads/")
    assert data["evidence"] == [
        {
            "field": "budget_amount",
            "value": "12000.50",
            "quote": "about 12k euros",
            "extractor": "rules",
        }
    ]


def test_notifying_and_sending_twice_posts_one_webhook(lead, receiver):
    first = _webhook(lead)
    notification_send(notification_id=first.id)
    again = _webhook(lead)
    sent = notification_send(notification_id=again.id)
    assert again.id == first.id
    assert len(receiver.requests) == 1
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, "")
    assert sent.sent_at is not None
    assert Notification.objects.filter(lead=lead).count() == 2  # a webhook and an email


def test_notify_queues_each_new_notification_once_after_commit(
    lead, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lead_qualified_notify(lead=lead)
    assert len(callbacks) == 3  # the webhook, the email, the frame to the widget
    # On the hand-offs' own queue: never behind (or in front of) visitors' replies.
    assert redis.Redis.from_url(broker.url).llen("salesbot.notifications") == 2
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lead_qualified_notify(lead=lead)
    assert len(callbacks) == 1  # only the frame again, which the widget takes once
    assert redis.Redis.from_url(broker.url).llen("salesbot.notifications") == 2
    assert redis.Redis.from_url(broker.url).llen("salesbot") == 0


def test_a_failure_is_recorded_with_its_reason_then_a_retry_succeeds(lead, receiver):
    receiver.fail = 1
    notification = _webhook(lead)
    with pytest.raises(NotificationFailed) as info:
        notification_send(notification_id=notification.id)
    assert not info.value.final
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("pending", 1)
    # The receiver's answer ("database is down") is not kept: only its status.
    assert notification.last_error == f"HTTP 500 Internal Server Error from {receiver.url}"

    sent = notification_send(notification_id=notification.id)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 2, "")
    assert [r.headers["X-Salesbot-Delivery"] for r in receiver.requests] == [
        f"lead-{lead.id}-qualified"
    ] * 2


def test_an_unreachable_receiver_is_named_in_the_error(lead, site):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"
    site.webhook_url = url
    site.save()
    notification = _webhook(lead)
    with pytest.raises(NotificationFailed):
        notification_send(notification_id=notification.id)
    notification.refresh_from_db()
    assert notification.last_error.startswith(f"could not connect to {url}: ")
    assert "refused" in notification.last_error.lower()


def test_a_site_without_a_webhook_secret_fails_with_what_to_do(lead, site, receiver):
    site.webhook_secret = ""
    site.save()
    notification = _webhook(lead)
    with pytest.raises(NotificationFailed, match="no webhook secret: set one in the admin"):
        notification_send(notification_id=notification.id)
    assert receiver.requests == []  # never sent unsigned


def test_the_last_failed_attempt_marks_it_failed_and_nothing_is_sent_after(
    lead, receiver, settings
):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    receiver.fail = 10
    notification = _webhook(lead)
    with pytest.raises(NotificationFailed) as first:
        notification_send(notification_id=notification.id)
    with pytest.raises(NotificationFailed) as last:
        notification_send(notification_id=notification.id)
    assert (first.value.final, last.value.final) == (False, True)
    done = notification_send(notification_id=notification.id)
    assert (done.status, done.attempts) == ("failed", 2)
    assert done.last_error.startswith("HTTP 500")
    assert len(receiver.requests) == 2


def test_a_run_cut_short_on_the_last_attempt_is_given_up(lead, receiver, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    notification = _webhook(lead)
    Notification.objects.filter(id=notification.id).update(attempts=2)  # the worker died twice
    with pytest.raises(NotificationFailed, match="the worker stopped during it"):
        notification_send(notification_id=notification.id)
    assert Notification.objects.get(id=notification.id).status == "failed"
    assert receiver.requests == []


def test_the_task_retries_until_the_receiver_answers(lead, receiver):
    receiver.fail = 2
    notification = _webhook(lead)
    result = notification_send_task.apply(args=[notification.id])
    assert result.successful()
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 3)
    assert len(receiver.requests) == 3
    assert all(
        webhook_verify(secret=SECRET, header=r.headers["X-Salesbot-Signature"], body=r.body)
        for r in receiver.requests
    )


def test_the_task_gives_up_after_the_last_attempt(lead, receiver, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    receiver.fail = 10
    notification = _webhook(lead)
    notification_send_task.apply(args=[notification.id])
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", 3)
    assert len(receiver.requests) == 3


def test_the_retry_delay_doubles_with_jitter_up_to_the_maximum(settings):
    settings.NOTIFY_RETRY_BACKOFF, settings.NOTIFY_RETRY_BACKOFF_MAX = 30, 100
    for attempts, (low, high) in {1: (15, 30), 2: (30, 60), 3: (50, 100), 9: (50, 100)}.items():
        delays = {notification_retry_delay(attempts=attempts) for _ in range(50)}
        assert low <= min(delays) and max(delays) <= high


def test_the_email_goes_once_to_the_owner(lead, mailoutbox):
    lead.owner = get_user_model().objects.create_user("sam", email="sam@acme.test")
    lead.save()
    notification = _email(lead)
    notification_send(notification_id=notification.id)
    notification_send(notification_id=_email(lead).id)
    [email] = mailoutbox
    assert email.to == ["sam@acme.test"]
    assert email.from_email == "salesbot@localhost"
    assert email.reply_to == ["dana@northwind.test"]
    assert email.subject == "Qualified lead: Dana Whitfield (Northwind)"
    assert "Budget: 12000.50 EUR" in email.body
    assert '- budget_amount: "about 12k euros"' in email.body
    assert f"Open the lead: {lead_admin_url(lead=lead)}" in email.body
    assert Notification.objects.get(id=notification.id).status == "sent"


@pytest.mark.parametrize("owner_email", [None, ""])
def test_without_an_owner_email_it_goes_to_the_sales_address(lead, mailoutbox, owner_email):
    if owner_email is not None:
        lead.owner = get_user_model().objects.create_user("noemail", email=owner_email)
        lead.save()
    notification_send(notification_id=_email(lead).id)
    assert [m.to for m in mailoutbox] == [["sales@acme.test"]]


def test_an_unreachable_mail_server_is_named_in_the_error(lead, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    notification = _email(lead)
    with pytest.raises(NotificationFailed):
        notification_send(notification_id=notification.id)
    notification.refresh_from_db()
    assert notification.last_error.startswith(
        f"could not send the email to sales@acme.test through 127.0.0.1:{port} (EMAIL_URL): "
    )


def test_nothing_is_created_for_a_site_with_no_webhook_and_no_email():
    site = Site.objects.create(key="quiet", name="Quiet")
    lead = _lead(site, name="Nobody")
    assert lead_qualified_notify(lead=lead) == []
    assert not Notification.objects.exists()
