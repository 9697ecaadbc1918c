"""The chat consumer through channels' WebsocketCommunicator, over the real Redis channel layer."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.db import transaction

from leads.models import Conversation, Lead, Message
from leads.services.leads import lead_ensure
from leads.services.qualification import lead_status_set
from leads.services.replies import reply_generate
from llm.backends.fake import FakeLLM
from salesbot.asgi import application
from salesbot.embedded_redis import EmbeddedRedis
from salesbot.redis_urls import channel_layer_host

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_channel_layer")]
ORIGIN = (b"origin", b"http://localhost:8000")
_ID = "6f1c1a4e-8f0e-4c39-9a53-0c7d1f0e2b11"


async def _connect(path="/ws/chat/demo/", headers=(ORIGIN,)):
    communicator = WebsocketCommunicator(application, path, headers=list(headers))
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _ready(token=None):
    communicator = await _connect()
    await communicator.send_json_to({"type": "hello", "visitor": token})
    welcome = await communicator.receive_json_from()
    assert welcome["type"] == "welcome"
    return communicator, welcome


async def _error(communicator, frame=None, text=None, wait=1):
    if text is not None:
        await communicator.send_to(text_data=text)
    else:
        await communicator.send_json_to(frame)
    reply = await communicator.receive_json_from(timeout=wait)
    assert reply["type"] == "error"
    return reply


async def test_unknown_site_is_refused_with_4403(site):
    communicator = await _connect("/ws/chat/nope/")
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4403}
    await communicator.disconnect()  # the server side of the close, as the ASGI server does


@pytest.mark.parametrize(
    "headers", [(), ((b"origin", b"https://evil.example"),)], ids=["no-origin", "other"]
)
async def test_disallowed_origin_is_refused_with_4403(site, headers):
    communicator = await _connect(headers=headers)
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4403}
    await communicator.disconnect()


async def test_hello_starts_a_conversation_and_returns_a_token(site):
    communicator, welcome = await _ready()
    assert welcome["visitor"] and welcome["conversation"] and welcome["history"] == []
    await communicator.disconnect()


async def test_hello_with_an_unknown_token_starts_afresh(site):
    communicator, welcome = await _ready(token="forged-token")
    assert welcome["visitor"] != "forged-token"
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{not json", "bad_frame"),
        ("[1, 2]", "bad_frame"),
        ('{"no": "type"}', "bad_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "message", "id": "not-a-uuid", "text": "hi"}', "bad_frame"),
        ('{"type": "message", "id": "6f1c1a4e-8f0e-4c39-9a53-0c7d1f0e2b11"}', "bad_frame"),
        # Hostile frames under the size cap: each is answered, none closes the socket.
        ('{"type": "ping", "x": ' + "[" * 5000 + "]" * 5000 + "}", "bad_frame"),
        ("[" * 5000 + "]" * 5000, "bad_frame"),
        ('{"type": "message", "id": "' + _ID + '", "text": "hi \\ud800"}', "bad_frame"),
        ('{"type": "message", "id": "' + _ID + '", "text": "hi \\u0000 there"}', "bad_frame"),
        ('{"type": "hello", "visitor": "\\udfff"}', "bad_frame"),
        ('{"type": "message", "id": "' + _ID + '", "text": 42}', "bad_frame"),
        ('{"type": "message", "id": ["' + _ID + '"], "text": "hi"}', "bad_frame"),
        ('{"type": "hello", "visitor": {"a": 1}}', "bad_frame"),
        (
            '{"type": "identify", "id": "' + _ID + '", "email": "a@b.co", "signature": "é"}',
            "bad_frame",
        ),
        ('{"type": "ping", "n": ' + "9" * 5000 + "}", "bad_frame"),
        ('{"type": "ping\\u0000"}', "unknown_type"),
        ('{"type": "' + "x" * 5000 + '"}', "unknown_type"),
        ('{"type": true}', "bad_frame"),
        ("\ufeff{}", "bad_frame"),
    ],
)
async def test_bad_frames_get_an_error_and_the_connection_stays_usable(site, text, code):
    communicator, _ = await _ready()
    error = await _error(communicator, text=text)
    assert error["code"] == code and error["detail"] and len(error["detail"]) < 300
    await communicator.send_json_to({"type": "hello", "visitor": None})
    assert (await communicator.receive_json_from())["type"] == "welcome"
    await communicator.disconnect()


async def test_binary_frames_are_bad_frames(site):
    communicator, _ = await _ready()
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert (await communicator.receive_json_from())["code"] == "bad_frame"
    await communicator.disconnect()


async def test_message_before_hello_is_not_ready(site):
    communicator = await _connect()
    frame_id = str(uuid.uuid4())
    error = await _error(communicator, {"type": "message", "id": frame_id, "text": "hi"})
    assert (error["code"], error["id"]) == ("not_ready", frame_id)
    await communicator.disconnect()


async def test_too_long_message_is_refused_and_not_stored(site, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 50
    communicator, _ = await _ready()
    error = await _error(
        communicator, {"type": "message", "id": str(uuid.uuid4()), "text": "a" * 51}
    )
    assert error["code"] == "too_long" and "50" in error["detail"]
    huge = json.dumps({"type": "message", "id": str(uuid.uuid4()), "text": "a" * 100_000})
    assert (await _error(communicator, text=huge))["code"] == "too_long"
    assert await database_sync_to_async(Message.objects.count)() == 0
    await communicator.disconnect()


async def test_message_is_acked_after_it_is_stored_and_stored_once(site):
    communicator, _ = await _ready()
    frame = {"type": "message", "id": str(uuid.uuid4()), "text": "  Hello there  "}
    await communicator.send_json_to(frame)
    ack = await communicator.receive_json_from()
    stored = await database_sync_to_async(Message.objects.get)(id=ack["message"])
    assert (ack["type"], ack["id"], stored.text) == ("ack", frame["id"], "Hello there")
    await communicator.send_json_to(frame)
    again = await communicator.receive_json_from()
    assert again == ack
    assert await database_sync_to_async(Message.objects.count)() == 1
    await communicator.disconnect()


TEN_WORDS = "Hello! We build live dashboards for sales teams like yours."


async def test_reply_is_streamed_to_the_conversation_and_stored(site):
    communicator, _ = await _ready()
    await communicator.send_json_to({"type": "message", "id": str(uuid.uuid4()), "text": "Hi"})
    ack = await communicator.receive_json_from()
    model = FakeLLM(capability="compose", replies=[TEN_WORDS])
    reply = await database_sync_to_async(reply_generate)(
        message_id=ack["message"], task_id="task-1", model=model
    )
    frames = [await communicator.receive_json_from()]
    while frames[-1] != {"type": "typing", "on": False}:
        frames.append(await communicator.receive_json_from())
    assert frames[0] == {"type": "typing", "on": True}
    deltas = frames[1:-2]
    assert deltas and {f["type"] for f in deltas} == {"delta"}
    # The first sentence leaves as soon as it is whole and passes the guards (leads/guard.py,
    # leads/reply_gate.py); the rest may come in batches (CHAT_DELTA_INTERVAL_MS), the
    # product's next question last.
    assert deltas[0]["text"] == "Hello!"
    streamed = "".join(f["text"] for f in deltas)
    assert streamed.startswith(f"{TEN_WORDS} ") and streamed.endswith("?")
    assert frames[-2] == {
        "type": "reply",
        "message": reply.id,
        "role": "assistant",
        "text": streamed,
    }
    # The visitor's message reached the model as the last user turn, after the site's rules.
    assert model.prompts[0][0].role == "system" and "Acme Analytics" in model.prompts[0][0].content
    assert model.prompts[0][-1].content == "Hi"
    await communicator.disconnect()


async def test_resuming_with_the_token_returns_the_history(site):
    communicator, welcome = await _ready()
    await communicator.send_json_to({"type": "message", "id": str(uuid.uuid4()), "text": "Hi"})
    ack = await communicator.receive_json_from()
    await database_sync_to_async(reply_generate)(
        message_id=ack["message"],
        task_id="t",
        model=FakeLLM(capability="compose", replies=["Welcome!"]),
    )
    await communicator.disconnect()
    again, resumed = await _ready(token=welcome["visitor"])
    assert resumed["conversation"] == welcome["conversation"]
    stored = await database_sync_to_async(Message.objects.get)(role="assistant")
    assert stored.text.startswith("Welcome! ")
    assert [(m["role"], m["text"]) for m in resumed["history"]] == [
        ("visitor", "Hi"),
        ("assistant", stored.text),
    ]
    await again.disconnect()


async def test_a_message_whose_reply_cannot_be_queued_is_not_acked(site, broker):
    communicator, _ = await _ready()
    broker.stop()
    frame = {"type": "message", "id": str(uuid.uuid4()), "text": "Anyone there?"}
    error = await _error(communicator, frame, wait=20)  # Celery retries publishing first
    assert (error["code"], error["id"]) == ("unavailable", frame["id"])
    broker.start()
    await communicator.send_json_to(frame)
    ack = await communicator.receive_json_from()
    assert ack["type"] == "ack" and ack["id"] == frame["id"]
    assert await database_sync_to_async(Message.objects.count)() == 1
    await communicator.disconnect()


async def test_history_tells_the_client_which_of_its_messages_were_stored(site):
    communicator, welcome = await _ready()
    client_id = str(uuid.uuid4())
    await communicator.send_json_to({"type": "message", "id": client_id, "text": "Hi"})
    await communicator.receive_json_from()  # the ack, as if it were lost on the way
    await communicator.disconnect()
    again, resumed = await _ready(token=welcome["visitor"])
    assert resumed["history"][0]["client_id"] == client_id
    await again.disconnect()


async def test_an_idle_connection_outlives_the_channel_layers_blocking_pop(site):
    """redis-py 8's 5 s read timeout against channels-redis's 5 s BZPOPMIN (channels_redis#422)."""
    communicator, _ = await _ready()
    assert await communicator.receive_nothing(timeout=12)
    await communicator.send_json_to({"type": "hello", "visitor": None})
    assert (await communicator.receive_json_from())["type"] == "welcome"
    await communicator.disconnect()


async def test_ping_is_answered_with_pong(site):
    communicator, _ = await _ready()
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


@pytest.fixture
def consenting_site(site):
    site.privacy_notice_url = "https://acme.example/privacy"
    site.consent_required = True
    site.save()
    return site


def _message(text="Hi"):
    return {"type": "message", "id": str(uuid.uuid4()), "text": text}


async def test_a_site_that_requires_consent_refuses_messages_before_it(consenting_site):
    communicator, welcome = await _ready()
    assert welcome["consent"] is None
    frame = _message()
    error = await _error(communicator, frame)
    assert (error["code"], error["id"]) == ("consent_required", frame["id"])
    assert "privacy notice" in error["detail"]
    assert await database_sync_to_async(Message.objects.count)() == 0
    await communicator.disconnect()


async def test_consent_is_recorded_with_the_conversation_and_then_messages_are_taken(
    consenting_site,
):
    communicator, welcome = await _ready()
    # What the client says it showed is not taken at its word: the Site's notice is recorded.
    consent = {"type": "consent", "id": str(uuid.uuid4()), "notice": "https://evil.example/none"}
    await communicator.send_json_to(consent)
    assert await communicator.receive_json_from() == {"type": "ack", "id": consent["id"]}
    await communicator.send_json_to(_message())
    assert (await communicator.receive_json_from())["type"] == "ack"
    conversation = await database_sync_to_async(Conversation.objects.get)(
        id=welcome["conversation"]
    )
    assert conversation.consent_at is not None
    assert conversation.consent_notice == "https://acme.example/privacy"
    await communicator.disconnect()
    # A later connection of the same visitor is told that consent was given.
    again, resumed = await _ready(token=welcome["visitor"])
    assert resumed["consent"] == conversation.consent_at.isoformat()
    await again.disconnect()


async def test_identify_records_the_host_page_visitor_on_the_lead(site):
    communicator, welcome = await _ready()
    frame = {
        "type": "identify",
        "id": str(uuid.uuid4()),
        "email": "Jane@Example.com",
        "name": "  Jane   Doe ",
    }
    await communicator.send_json_to(frame)
    assert await communicator.receive_json_from() == {"type": "ack", "id": frame["id"]}
    lead = await database_sync_to_async(Lead.objects.get)(conversation_id=welcome["conversation"])
    assert (lead.email, lead.name) == ("Jane@example.com", "Jane Doe")
    await communicator.disconnect()


async def test_identify_with_a_bad_email_is_refused_with_the_reason(site):
    communicator, _ = await _ready()
    frame = {"type": "identify", "id": str(uuid.uuid4()), "email": "jane(at)example"}
    error = await _error(communicator, frame)
    assert (error["code"], error["id"]) == ("bad_frame", frame["id"])
    assert "jane(at)example" in error["detail"]
    assert await database_sync_to_async(Lead.objects.count)() == 0
    await communicator.disconnect()


async def test_identify_before_consent_is_refused(consenting_site):
    communicator, _ = await _ready()
    frame = {"type": "identify", "id": str(uuid.uuid4()), "email": "jane@example.com"}
    assert (await _error(communicator, frame))["code"] == "consent_required"
    await communicator.disconnect()


async def test_a_lead_that_qualifies_is_announced_to_its_widget(site):
    communicator, welcome = await _ready()

    def qualify():
        lead = lead_ensure(conversation=Conversation.objects.get(id=welcome["conversation"]))
        with transaction.atomic():
            lead_status_set(lead=lead, status=Lead.Status.QUALIFIED)

    await database_sync_to_async(qualify)()
    assert await communicator.receive_json_from() == {"type": "lead", "status": "qualified"}
    await communicator.disconnect()


async def test_a_server_bug_answers_unavailable_and_keeps_the_connection(site, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("leads.consumers.calls.lead_identify", boom)
    communicator, _ = await _ready()
    frame = {"type": "identify", "id": str(uuid.uuid4()), "email": "jane@example.com"}
    error = await _error(communicator, frame)
    assert (error["code"], error["id"]) == ("unavailable", frame["id"])
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


async def test_a_failed_consent_write_is_not_taken_for_consent(consenting_site, monkeypatch):
    from django.db import OperationalError

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    communicator, _ = await _ready()
    monkeypatch.setattr("django.db.models.query.QuerySet.update", locked)
    # What the client says it showed is not taken at its word: the Site's notice is recorded.
    consent = {"type": "consent", "id": str(uuid.uuid4()), "notice": "https://evil.example/none"}
    assert (await _error(communicator, consent))["code"] == "unavailable"
    monkeypatch.undo()
    assert (await _error(communicator, _message()))["code"] == "consent_required"
    await communicator.disconnect()


async def test_a_socket_whose_channel_layer_loses_redis_is_closed_with_1013(
    site, settings, tmp_path
):
    """Closed with "try again later", not dropped: the widget reconnects and resends."""
    server = EmbeddedRedis(tmp_path / "layer.sock", persist=False).start()
    layer = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {
        "default": layer | {"CONFIG": {"hosts": [channel_layer_host(server.url)]}}
    }
    channel_layers.backends.clear()
    communicator, _ = await _ready()
    await asyncio.to_thread(server.stop)
    assert await communicator.receive_output(timeout=10) == {
        "type": "websocket.close",
        "code": 1013,
    }
