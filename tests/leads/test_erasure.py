"""Erasure that holds: once a lead is erased, its conversation takes no write of any kind, the
visitor's open socket closes, and a reply, an extraction or a summary in flight drops what it
made. Each path is met with the erasure landing in the middle of it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from leads.errors import ConversationErased
from leads.models import Conversation, Evidence, Lead, Message, Notification, Site, Visitor
from leads.protocol import CLOSE_ERASED
from leads.selectors.conversations import ErasedWatch
from leads.services.conversations import conversation_resume_or_start
from leads.services.extraction import message_facts_extract
from leads.services.facts import lead_identify
from leads.services.leads import lead_erase
from leads.services.messages import message_receive
from leads.services.notifications import lead_qualified_notify, notification_send
from leads.services.replies import reply_generate
from leads.services.summaries import conversation_summarise
from llm.backends.fake import FakeLLM
from llm.types import ChatMessage, Finish, JsonSchema, Options
from salesbot.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://localhost:8000")


class MidwayLLM(FakeLLM):
    """A scripted model that runs `midway` (the erasure) once it has written half its reply."""

    def __init__(self, midway: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.midway = midway

    def _generate(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> Iterator[str | Finish]:
        for n, item in enumerate(super()._generate(messages, options, schema)):
            if n == 2:
                self.midway()
            yield item


def _said(site: Site, text: str) -> Message:
    conversation = conversation_resume_or_start(site=site, visitor_token=None)
    return message_receive(conversation=conversation, text=text, client_id=uuid.uuid4())


def _erase(message: Message) -> Callable[[], None]:
    return lambda: lead_erase(lead=Lead.objects.get(conversation=message.conversation_id), by=None)


def test_a_message_to_an_erased_conversation_is_refused_and_not_stored(site):
    message = _said(site, "I'm Ana Torres, ana@lumio.io")
    _erase(message)()
    with pytest.raises(ConversationErased):
        message_receive(
            conversation=message.conversation, text="still here", client_id=uuid.uuid4()
        )
    assert list(Message.objects.values_list("text", flat=True)) == [""]


def test_identify_on_an_erased_conversation_writes_nothing(site):
    message = _said(site, "hello")
    _erase(message)()
    with pytest.raises(ConversationErased):
        lead_identify(conversation=message.conversation, email="ana@lumio.io", name="Ana")
    assert not Evidence.objects.exists() and Lead.objects.get().email == ""


def test_a_reply_in_flight_drops_its_text_when_the_conversation_is_erased(site):
    message = _said(site, "Hi, I'm Ana Torres from Lumio")
    model = MidwayLLM(_erase(message), replies=["Nice to meet you, Ana from Lumio, welcome!"])
    assert reply_generate(message_id=message.id, task_id="t", model=model) is None
    texts = Message.objects.filter(conversation=message.conversation).values_list("text", "status")
    assert sorted(texts) == [("", "complete"), ("", "failed")]


def test_the_stream_stops_at_the_next_look_after_the_erasure(site):
    message = _said(site, "hello")
    watch = ErasedWatch(message.conversation_id, every=0)
    assert not watch()
    _erase(message)()
    assert watch() and watch.seen


def test_an_erased_conversation_is_never_answered(site):
    message = _said(site, "hello")
    _erase(message)()
    assert reply_generate(message_id=message.id, task_id="t", model=FakeLLM()) is None
    assert Message.objects.filter(role="assistant").count() == 0


def test_an_extraction_in_flight_drops_its_facts_when_the_conversation_is_erased(site):
    message = _said(site, "We need dashboards for 40 reps")
    reading = json.dumps({"company": {"value": "Initech", "quote": "40 reps"}})
    model = MidwayLLM(_erase(message), replies=[reading])
    assert message_facts_extract(message_id=message.id, extractor="model", model=model) is None
    lead = Lead.objects.get()
    assert (lead.company, lead.seats, lead.erased_at is not None) == ("", None, True)
    assert not Evidence.objects.exists()


def test_a_summary_in_flight_is_not_written_onto_an_erased_conversation(site):
    message = _said(site, "I'm Ana Torres from Lumio")
    reply_generate(message_id=message.id, task_id="t", model=FakeLLM(replies=["Welcome, Ana!"]))
    model = MidwayLLM(_erase(message), replies=["Ana Torres of Lumio asked about pricing."])
    conversation_summarise(conversation_id=message.conversation_id, model=model)
    assert Conversation.objects.get().summary == ""


def test_a_pending_hand_off_is_cancelled_and_the_webhook_told_of_the_erasure(site, receiver):
    Site.objects.filter(id=site.id).update(webhook_url=receiver.url, webhook_secret="s")
    site.refresh_from_db()
    message = _said(site, "I'm Ana Torres, ana@lumio.io")
    lead = Lead.objects.get()
    (qualified,) = [n for n in lead_qualified_notify(lead=lead) if n.channel == "webhook"]
    _erase(message)()
    assert notification_send(notification_id=qualified.id).status == "cancelled"
    erased = Notification.objects.get(lead=lead, event="lead.erased")
    assert notification_send(notification_id=erased.id).status == "sent"
    [request] = receiver.requests
    body = json.loads(request.body)
    assert body["event"] == "lead.erased" and body["lead"]["id"] == lead.id
    assert not {"torres", "lumio"} & set(request.body.decode().lower().split('"'))
    assert "torres" not in request.body.decode().lower()  # nothing about the person
    assert request.headers["X-Salesbot-Event"] == "lead.erased"


@pytest.mark.usefixtures("own_channel_layer")
async def test_the_visitors_open_socket_closes_and_its_token_starts_afresh(site):
    communicator = WebsocketCommunicator(application, "/ws/chat/demo/", headers=[ORIGIN])
    assert (await communicator.connect())[0]
    await communicator.send_json_to({"type": "hello"})
    welcome = await communicator.receive_json_from(timeout=5)
    await communicator.send_json_to(
        {"type": "message", "id": str(uuid.uuid4()), "text": "I'm Ana, ana@lumio.io"}
    )
    assert (await communicator.receive_json_from(timeout=5))["type"] == "ack"

    def erase() -> None:
        lead_erase(lead=Lead.objects.get(conversation=welcome["conversation"]), by=None)

    await database_sync_to_async(erase)()
    while (output := await communicator.receive_output(timeout=5))["type"] != "websocket.close":
        pass  # the reply's typing frame may come first
    assert output["code"] == CLOSE_ERASED
    await communicator.disconnect()

    again = WebsocketCommunicator(application, "/ws/chat/demo/", headers=[ORIGIN])
    assert (await again.connect())[0]
    await again.send_json_to({"type": "hello", "visitor": welcome["visitor"]})
    fresh = await again.receive_json_from(timeout=5)
    assert fresh["conversation"] != welcome["conversation"] and fresh["history"] == []
    await again.disconnect()


def test_deleting_a_lead_in_the_admin_takes_its_conversation_with_it(site, admin_client):
    message = _said(site, "I'm Ana Torres, ana@lumio.io")
    kept = _said(site, "Another visitor")
    lead = Lead.objects.get(conversation=message.conversation_id)
    response = admin_client.post(f"/admin/leads/lead/{lead.id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Conversation.objects.filter(id=message.conversation_id).exists()
    assert not Message.objects.filter(conversation_id=message.conversation_id).exists()
    assert not Visitor.objects.filter(id=message.conversation.visitor_id).exists()
    # The next message on the socket that was open is refused: the lead does not come back.
    with pytest.raises(ConversationErased):
        message_receive(conversation=message.conversation, text="hi", client_id=uuid.uuid4())
    assert Lead.objects.count() == 1 and Lead.objects.get().conversation_id == kept.conversation_id


def test_deleting_leads_in_bulk_in_the_admin_takes_their_conversations(site, admin_client):
    messages = [_said(site, f"visitor {n}") for n in range(3)]
    ids = list(Lead.objects.values_list("id", flat=True)[:2])
    response = admin_client.post(
        "/admin/leads/lead/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert Conversation.objects.count() == 1 and Lead.objects.count() == 1
    assert Message.objects.count() == 1 and messages
