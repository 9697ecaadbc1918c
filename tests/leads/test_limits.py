"""The chat's abuse limits (leads/limits.py), each set low on the demo Site and met over the
protocol: the error code and detail that answer it, nothing stored, and the way back once the
limit lets the visitor through again. Counted in the test Redis, as in production."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ValidationError

from leads.consumers import leases
from leads.limits import ChatLimits
from leads.models import Message, ModelCall, Site
from leads.protocol import CLOSE_IDLE, CLOSE_TOO_MANY
from leads.selectors.widget import site_limits, widget_config
from leads.services import throttle
from leads.services.replies import reply_generate
from leads.services.reply_prompts import site_canary
from llm.backends.fake import FakeLLM
from salesbot.asgi import application
from tests.leads.factories import reply_to_new_conversation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_channel_layer")]
ORIGIN = (b"origin", b"http://localhost:8000")


def _limit(site: Site, **limits: int) -> None:
    site.limits = limits
    site.full_clean()
    site.save()


async def _connect(address: str = "203.0.113.5", *, held: bool = True) -> WebsocketCommunicator:
    """A socket from `address`; `held`: once its lease is taken (the socket is accepted before
    the lease is asked for, so sockets opened one after the other may lease in either order)."""
    communicator = WebsocketCommunicator(application, "/ws/chat/demo/", headers=[ORIGIN])
    communicator.scope["client"] = (address, 50000)  # read when the consumer starts
    connected, _ = await communicator.connect()
    assert connected
    if held:  # frames are handled once `connect` has finished
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    return communicator


async def _ready(address: str = "203.0.113.5", token: str | None = None):  # type: ignore[no-untyped-def]
    communicator = await _connect(address)
    await communicator.send_json_to({"type": "hello", "visitor": token})
    welcome = await communicator.receive_json_from(timeout=5)
    assert welcome["type"] == "welcome", welcome
    return communicator, welcome


async def _say(communicator: WebsocketCommunicator, text: str, frame_id: str | None = None):  # type: ignore[no-untyped-def]
    await communicator.send_json_to(
        {"type": "message", "id": frame_id or str(uuid.uuid4()), "text": text}
    )
    return await communicator.receive_json_from(timeout=5)


async def _stored() -> int:
    return await database_sync_to_async(Message.objects.filter(role="visitor").count)()


@pytest.fixture
def no_reply_wait(settings):  # type: ignore[no-untyped-def]
    """No worker answers here: a message is not 'in flight' once sent, so rates can be met."""
    settings.CHAT_REPLY_TIMEOUT_SECONDS = 0


def test_limits_validate_on_the_site(site):
    site.limits = {"messages_per_minute": 0, "burst": 3}
    with pytest.raises(ValidationError) as caught:
        site.full_clean()
    assert "messages_per_minute" in str(caught.value) and "burst" in str(caught.value)


def test_unset_limits_are_the_defaults_and_the_message_length_stays_under_the_cap(site, settings):
    assert site_limits(site=site) == ChatLimits()
    settings.CHAT_MAX_MESSAGE_CHARS = 500
    _limit(site, message_chars=5000)
    assert site_limits(site=site).message_chars == 500
    assert widget_config(site=site)["max_chars"] == 500


async def test_a_message_longer_than_the_sites_limit_is_refused(site):
    await database_sync_to_async(_limit)(site, message_chars=20)
    communicator, _ = await _ready()
    error = await _say(communicator, "x" * 21)
    assert (error["code"], error["detail"]) == (
        "too_long",
        "Messages can be at most 20 characters long; please shorten it.",
    )
    assert await _stored() == 0
    await communicator.disconnect()


async def test_a_visitor_sending_too_fast_is_told_when_to_send_again(site, no_reply_wait):
    await database_sync_to_async(_limit)(site, messages_per_minute=2)
    communicator, _ = await _ready()
    assert (await _say(communicator, "one"))["type"] == "ack"
    assert (await _say(communicator, "two"))["type"] == "ack"
    error = await _say(communicator, "three")
    assert error["code"] == "rate_limited" and 1 <= error["retry_after"] <= 60
    assert f"wait {error['retry_after']} seconds" in error["detail"]
    assert await _stored() == 2
    # Another visitor is not held back by this one.
    other, _ = await _ready(address="198.51.100.8")
    assert (await _say(other, "hello"))["type"] == "ack"
    await communicator.disconnect()
    await other.disconnect()


async def test_a_resent_message_is_not_counted_again(site, no_reply_wait):
    await database_sync_to_async(_limit)(site, messages_per_minute=1)
    communicator, _ = await _ready()
    frame_id = str(uuid.uuid4())
    first = await _say(communicator, "one", frame_id)
    assert first["type"] == "ack"
    assert await _say(communicator, "one", frame_id) == first  # a resend: the same ack
    await communicator.disconnect()


async def test_one_address_is_limited_across_its_visitors(site, no_reply_wait):
    await database_sync_to_async(_limit)(site, messages_per_minute_per_ip=3)
    visitors = [(await _ready())[0] for _ in range(2)]
    answers = [await _say(visitors[i % 2], f"message {i}") for i in range(4)]
    assert [a["type"] for a in answers[:3]] == ["ack"] * 3
    assert answers[3]["code"] == "rate_limited"
    elsewhere, _ = await _ready(address="198.51.100.8")
    assert (await _say(elsewhere, "hi"))["type"] == "ack"
    for communicator in [*visitors, elsewhere]:
        await communicator.disconnect()


async def test_an_address_may_hold_only_so_many_sockets(site):
    await database_sync_to_async(_limit)(site, sockets_per_ip=2)
    first, second = await _connect(), await _connect()
    third = await _connect(held=False)
    assert await third.receive_output(timeout=5) == {
        "type": "websocket.close",
        "code": CLOSE_TOO_MANY,
    }
    await third.disconnect()
    other = await _connect(address="198.51.100.8")  # another address is not affected
    await first.disconnect(timeout=30)  # its lease given back before this returns
    again = await _connect()  # a socket closed gives its place back
    for communicator in (second, other, again):
        await communicator.disconnect()


def test_a_socket_lease_lapses_when_its_web_process_dies(site, monkeypatch):
    limits = ChatLimits(sockets_per_ip=1)
    held = {"site_id": site.id, "limits": limits, "address": "203.0.113.5"}
    assert throttle.socket_open(**held, channel="a")
    assert not throttle.socket_open(**held, channel="b")
    # The process holding "a" died without closing it: nobody renews the lease.
    later = time.time() + throttle.SOCKET_LEASE_SECONDS + 1
    monkeypatch.setattr(throttle.time, "time", lambda: later)
    assert throttle.socket_open(**held, channel="b")


def _lease_ends(site, address: str) -> dict[str, float]:
    client = throttle.shared_redis()
    key = throttle._sockets_key(site.id, address)
    return {
        channel.decode(): score for channel, score in client.zrange(key, 0, -1, withscores=True)
    }


def test_open_sockets_leases_are_renewed_together_and_a_returned_one_stays_returned(site):
    limits = ChatLimits()
    for channel in ("a", "b"):
        assert throttle.socket_open(
            site_id=site.id, limits=limits, address="203.0.113.9", channel=channel
        )
    before = _lease_ends(site, "203.0.113.9")
    throttle.socket_close(site_id=site.id, address="203.0.113.9", channel="b")
    time.sleep(0.01)
    throttle.sockets_renew(leases=[(site.id, "203.0.113.9", "a"), (site.id, "203.0.113.9", "b")])
    after = _lease_ends(site, "203.0.113.9")
    assert set(after) == {"a"} and after["a"] > before["a"]


async def test_a_web_process_keeps_renewing_the_leases_of_its_open_sockets(site, monkeypatch):
    monkeypatch.setattr(leases, "SOCKET_LEASE_SECONDS", 0.4)  # renewed every 0.2 s
    communicator = await _connect(address="203.0.113.10")
    first = await database_sync_to_async(_lease_ends)(site, "203.0.113.10")
    await asyncio.sleep(1)
    renewed = await database_sync_to_async(_lease_ends)(site, "203.0.113.10")
    assert list(renewed) == list(first) and max(renewed.values()) > max(first.values())
    await communicator.disconnect(timeout=30)
    assert await database_sync_to_async(_lease_ends)(site, "203.0.113.10") == {}


async def test_an_address_may_start_only_so_many_conversations_an_hour(site):
    await database_sync_to_async(_limit)(site, conversations_per_hour_per_ip=2)
    first, welcome = await _ready()
    second, _ = await _ready()
    third = await _connect()
    await third.send_json_to({"type": "hello"})
    error = await third.receive_json_from(timeout=5)
    assert error["code"] == "rate_limited" and error["retry_after"] > 60
    assert "Too many new chats from your network" in error["detail"]
    # A visitor who has a conversation comes back to it whatever the count.
    await third.send_json_to({"type": "hello", "visitor": welcome["visitor"]})
    assert (await third.receive_json_from(timeout=5))["conversation"] == welcome["conversation"]
    count = database_sync_to_async(site.conversations.count)
    assert await count() == 2
    for communicator in (first, second, third):
        await communicator.disconnect()


async def test_a_new_message_waits_for_the_reply_to_the_one_before(site):
    communicator, _ = await _ready()
    first_id = str(uuid.uuid4())
    ack = await _say(communicator, "What does it cost?", first_id)
    busy = await _say(communicator, "And for 20 seats?")
    assert busy["code"] == "busy" and "still answering" in busy["detail"]
    assert await _say(communicator, "What does it cost?", first_id) == ack  # a resend is fine
    assert await _stored() == 1
    await database_sync_to_async(reply_generate)(
        message_id=ack["message"],
        task_id="t",
        model=FakeLLM(capability="compose", replies=["It starts at $49."]),
    )
    # The reply's frames, up to its last: typing off, after the reply itself.
    while (await communicator.receive_json_from(timeout=5)) != {"type": "typing", "on": False}:
        pass
    assert (await _say(communicator, "And for 20 seats?"))["type"] == "ack"
    await communicator.disconnect()


async def test_a_site_past_its_tokens_for_the_day_takes_no_more_messages(site):
    await database_sync_to_async(_limit)(site, tokens_per_day=1000)
    communicator, _ = await _ready()
    await database_sync_to_async(throttle.tokens_spend)(
        site_id=site.id, limits=ChatLimits(tokens_per_day=1000), tokens=999
    )
    assert (await _say(communicator, "one more"))["type"] == "ack"
    await database_sync_to_async(throttle.tokens_spend)(
        site_id=site.id, limits=ChatLimits(tokens_per_day=1000), tokens=1
    )
    error = await _say(communicator, "and another")
    assert error["code"] == "over_quota" and "for today" in error["detail"]
    await communicator.disconnect()


def test_model_calls_are_charged_to_their_sites_day(site, calls_kept):
    _limit(site, tokens_per_day=10_000)
    reply_to_new_conversation(
        site, FakeLLM(capability="compose", replies=["Hello there, how can I help?"])
    )
    stats = throttle._daily().get_window_stats(
        throttle.RateLimitItemPerDay(10_000), "tokens", str(site.id)
    )
    assert 0 < 10_000 - stats.remaining < 10_000


def test_a_reply_stopped_for_a_leak_is_charged_too(site, calls_kept):
    """Else a visitor who makes the model give away its instructions would spend its time
    without counting against the Site's day."""
    _limit(site, tokens_per_day=10_000)
    # Leaked before a sentence was whole, twice: nothing shown, the plan stands in.
    leaking = f"Happy to help you today, the code is {site_canary(site)} and then more."
    model = FakeLLM(capability="compose", replies=[leaking, leaking])
    reply = Message.objects.get(id=reply_to_new_conversation(site, model).id)
    assert reply.leak == "canary"
    calls = list(ModelCall.objects.filter(conversation=reply.conversation_id))
    assert [c.outcome for c in calls] == [ModelCall.Outcome.STOPPED] * 2
    assert all(c.prompt_tokens > 0 and c.completion_tokens > 0 for c in calls)
    stats = throttle._daily().get_window_stats(
        throttle.RateLimitItemPerDay(10_000), "tokens", str(site.id)
    )
    assert 10_000 - stats.remaining == sum(c.prompt_tokens + c.completion_tokens for c in calls)


async def test_a_socket_with_nothing_said_is_closed_after_the_idle_time(site):
    await database_sync_to_async(_limit)(site, idle_seconds=1)
    communicator, _ = await _ready()
    started = time.monotonic()
    await asyncio.sleep(0.5)
    await communicator.send_json_to({"type": "ping"})  # a heartbeat is not activity
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_IDLE}
    assert time.monotonic() - started < 3
    await communicator.disconnect()


async def test_a_message_keeps_the_socket_open(site, no_reply_wait):
    await database_sync_to_async(_limit)(site, idle_seconds=2)
    communicator, _ = await _ready()
    for _ in range(3):
        await asyncio.sleep(1)
        assert (await _say(communicator, "still here"))["type"] == "ack"
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_IDLE}
    await communicator.disconnect()
