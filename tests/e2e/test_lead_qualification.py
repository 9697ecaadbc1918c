"""A conversation through the real worker ends with a qualified lead, its evidence, one webhook."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from websockets.sync.client import connect

from leads.models import Evidence, Lead, Message, Notification
from leads.signing import webhook_verify

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SECRET = "whsec_e2e"
VISITOR_SAYS = [
    "Hi, I'm Maya Lindqvist, Head of Support at Fjord Freight. We need a helpdesk for 25 agents.",
    "We have $30k for the first year and want to go live within 2 months. I sign off on it.",
    "maya.lindqvist@fjordfreight.com",
]


@pytest.fixture(scope="module")
def stack_env(stack_env):
    # The test's webhook receiver listens on loopback over plain http.
    return stack_env | {"WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"}


def _chat(stack, texts):
    url = stack.base_url.replace("http://", "ws://") + "/ws/chat/demo/"
    with connect(url, origin=stack.base_url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "visitor": None}))
        welcome = json.loads(ws.recv(timeout=30))
        for text in texts:
            ws.send(json.dumps({"type": "message", "id": str(uuid.uuid4()), "text": text}))
            while json.loads(ws.recv(timeout=180))["type"] != "reply":
                pass
    return welcome["conversation"]


def _wait_for(check, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    pytest.fail("timed out waiting for the worker")


def test_a_conversation_ends_with_a_qualified_lead_its_evidence_and_one_webhook(
    live_stack, demo_site, receiver
):
    demo_site.webhook_url, demo_site.webhook_secret = receiver.url, SECRET
    demo_site.save()
    conversation = _chat(live_stack, VISITOR_SAYS)

    notification = _wait_for(
        lambda: Notification.objects.filter(
            lead__conversation_id=conversation, status=Notification.Status.SENT
        ).first()
    )
    # Extraction runs on its own worker: the last message may still be being read.
    lead = _wait_for(
        lambda: Lead.objects.filter(conversation_id=conversation).exclude(email="").first()
    )
    assert lead.status == Lead.Status.QUALIFIED
    assert (lead.name, lead.email, lead.company, lead.seats) == (
        "Maya Lindqvist",
        "maya.lindqvist@fjordfreight.com",
        "Fjord Freight",
        25,
    )
    assert (lead.budget_amount, lead.budget_currency, lead.timeline_months) == (30000, "USD", 2)
    assert lead.is_decision_maker is True

    visitor_texts = list(
        Message.objects.filter(conversation_id=conversation, role="visitor").values_list(
            "text", flat=True
        )
    )
    current = Evidence.objects.filter(lead=lead, current=True)
    assert {e.field for e in current} >= {"name", "email", "company", "seats", "budget_amount"}
    assert all(any(e.quote in text for text in visitor_texts) for e in current)

    [request] = receiver.requests
    assert notification.channel == "webhook" and notification.attempts == 1
    assert webhook_verify(
        secret=SECRET, header=request.headers["X-Salesbot-Signature"], body=request.body
    )
    payload = json.loads(request.body)
    assert payload["event"] == "lead.qualified"
    assert payload["lead"]["email"] == "maya.lindqvist@fjordfreight.com"
