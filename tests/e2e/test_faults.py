"""Faults with real processes: no message a visitor was told is safe (`ack`) is lost, and none is
answered twice, when Redis restarts or the database is gone for a while.

The stack runs against a Redis server of this module's own (persisted as production's must be:
docs/deployment.md), so that it can be killed and started again; on PostgreSQL its database
connections go through a TCP relay that the tests cut. This process reads the database directly.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from leads.dispatch import REPLY_GENERATE
from leads.models import Message, Site
from leads.protocol import CLOSE_UNAVAILABLE
from salesbot.stack import Stack
from tests.e2e.conftest import database_url, free_port
from tests.e2e.faults import RedisServer, TcpRelay

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a database that is briefly gone needs PostgreSQL (DATABASE_URL=postgres://…): the "
    "SQLite file the processes open has no connection to cut",
)
CUT_SECONDS = 4  # how long the database stays unreachable
REPLY_QUEUE = "salesbot"  # the replies' queue (CELERY_QUEUE unset): a list in Redis


# Celery 5.7.0's reconnect closes the broken connection twice (collect(), then close()); the
# second close meets a channel whose first close stopped at its pending BRPOP, with the
# transport already detached: AttributeError in kombu's restore_unacked, "Unrecoverable error",
# and the worker exits. It happens whenever a worker holds an unacknowledged task (one it runs,
# or a countdown it waits for) while it still polls for more. Celery 5.6.3 reconnects.
@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("faults-redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def db_relay(django_db_setup: None, django_db_blocker: Any) -> Iterator[TcpRelay | None]:
    """On PostgreSQL, a relay to it that the stack's processes connect through."""
    if connection.vendor != "postgresql":
        yield None
        return
    with django_db_blocker.unblock():
        db = connection.settings_dict
    relay = TcpRelay((str(db.get("HOST") or "127.0.0.1"), int(db.get("PORT") or 5432))).start()
    yield relay
    relay.stop()


@pytest.fixture(scope="module")
def stack_env(
    stack_env: dict[str, str], db_relay: TcpRelay | None, django_db_blocker: Any
) -> dict[str, str]:
    # Replies long enough to cut one in the middle; the sweep soon after work is lost.
    env = stack_env | {
        "LLM_MAX_NEW_TOKENS": "400",
        "LLM_TEMPERATURE": "0.8",
        "SWEEP_EVERY_SECONDS": "2",
        "SWEEP_AFTER_SECONDS": "5",
        # No model pass for lead facts: the replies alone hold the model and the workers.
        "EXTRACTION_EXTRACTOR": "rules",
    }
    if db_relay is not None:
        with django_db_blocker.unblock():
            relayed = connection.settings_dict | {"HOST": "127.0.0.1", "PORT": db_relay.port}
        env["DATABASE_URL"] = database_url(relayed)
    return env


@pytest.fixture(scope="module")
def live_stack(stack_env: dict[str, str], own_redis: RedisServer) -> Iterator[Stack]:
    stack = Stack(
        port=free_port(), model_port=free_port(), env=stack_env | {"REDIS_URL": own_redis.url}
    ).start(timeout=90)
    try:
        yield stack
    finally:
        stack.stop()


def _connect(stack: Stack) -> ClientConnection:
    url = stack.base_url.replace("http://", "ws://") + "/ws/chat/demo/"
    return connect(url, origin=stack.base_url, open_timeout=10)


def _recv(ws: ClientConnection, timeout: float = 60) -> dict[str, Any]:
    return dict(json.loads(ws.recv(timeout=timeout)))


def _frames_until(
    ws: ClientConnection, done: Callable[[dict[str, Any]], bool], timeout: float = 120
) -> list[dict[str, Any]]:
    frames = [_recv(ws, timeout)]
    while not done(frames[-1]):
        frames.append(_recv(ws, timeout))
    return frames


def _hello(ws: ClientConnection, token: str | None) -> dict[str, Any]:
    """`welcome`, or the error that answered `hello`."""
    ws.send(json.dumps({"type": "hello", "visitor": token}))
    return _recv(ws)


def _say(ws: ClientConnection, client_id: str, text: str) -> dict[str, Any]:
    """Send a message; its `ack` or error, or {"type": "closed"} when the socket closes."""
    try:
        ws.send(json.dumps({"type": "message", "id": client_id, "text": text}))
        return _frames_until(ws, lambda f: f.get("id") == client_id, timeout=60)[-1]
    except ConnectionClosed:
        return {"type": "closed", "code": ws.close_code}


def _say_anew(stack: Stack, token: str, client_id: str, text: str) -> dict[str, Any]:
    """As the widget after a reconnect: `hello` with its token, then the message."""
    try:
        with _connect(stack) as ws:
            welcome = _hello(ws, token)
            if welcome["type"] != "welcome":
                return welcome
            return _say(ws, client_id, text)
    except ConnectionClosed as exc:
        return {"type": "closed", "code": exc.rcvd.code if exc.rcvd else None}
    except InvalidStatus as exc:
        return {"type": "refused", "status": exc.response.status_code}
    except OSError as exc:
        return {"type": "unreachable", "error": repr(exc)}


def _deliver(stack: Stack, token: str, client_id: str, text: str, timeout: float = 120) -> int:
    """Send a message as the widget does until it is acknowledged: refused (`unavailable`) or
    dropped, it is sent again with the same id after a pause. The stored message's id."""
    deadline, answers = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        answer = _say_anew(stack, token, client_id, text)
        if answer["type"] == "ack":
            return int(answer["message"])
        answers.append(answer)
        time.sleep(1)
    pytest.fail(f"message {client_id} was never acknowledged: {answers}")


def _reply_to(stack: Stack, message_id: int, timeout: float = 150) -> Message:
    """The finished reply to visitor message `message_id`, once there is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = Message.objects.filter(in_reply_to_id=message_id).first()
        if reply is not None and reply.status == Message.Status.COMPLETE:
            return reply
        assert stack.dead() is None, f"the {stack.dead()} process died"
        time.sleep(0.5)
    found = Message.objects.filter(in_reply_to_id=message_id).values("status", "attempts")
    pytest.fail(f"message {message_id} was not answered within {timeout}s; its reply: {found}")


def _answered_once(stack: Stack, token: str, *client_ids: str) -> None:
    """Each message is stored once, with one finished reply, in the database and in what the
    visitor's next `welcome` shows."""
    shown = []
    for client_id in client_ids:
        (visitor,) = Message.objects.filter(client_id=client_id)
        (reply,) = Message.objects.filter(in_reply_to=visitor)
        assert reply.status == Message.Status.COMPLETE and reply.text
        shown += [("visitor", visitor.id, client_id), ("assistant", reply.id, None)]
    assert Message.objects.filter(conversation_id=visitor.conversation_id).count() == len(shown)
    with _connect(stack) as ws:
        welcome = _hello(ws, token)
    assert [(m["role"], m["id"], m.get("client_id")) for m in welcome["history"]] == shown
    assert stack.dead() is None, f"the {stack.dead()} process died"


def _reply_tasks(server: RedisServer, message_id: int) -> list[bytes]:
    """The reply tasks for `message_id` waiting in the replies' queue, as Redis holds them."""
    queued = [json.loads(raw) | {"raw": raw} for raw in server.client().lrange(REPLY_QUEUE, 0, -1)]
    return [
        task["raw"]
        for task in queued
        if (task["headers"]["task"], task["headers"]["argsrepr"])
        == (REPLY_GENERATE, f"({message_id},)")
    ]


def _revive(stack: Stack) -> None:
    """Start again each part of the stack that died, for the tests after this one."""
    while (name := stack.dead()) is not None:
        stack.process_start(name)


def test_replies_queued_when_redis_crashes_are_answered_once_it_is_back(
    live_stack: Stack, own_redis: RedisServer, demo_site: Site
) -> None:
    # With the workers stopped, the reply's task waits in Redis when it is killed.
    live_stack.process_stop("worker")
    live_stack.process_stop("extractor")
    try:
        with _connect(live_stack) as ws:
            token = _hello(ws, None)["visitor"]
            client_id = str(uuid.uuid4())
            ack = _say(ws, client_id, "Hello! Do you offer a free trial?")
            assert ack["type"] == "ack"
            queued = _reply_tasks(own_redis, ack["message"])
            assert queued, "the reply's task is not in the queue"
            own_redis.kill()
            own_redis.start()  # from its append-only file
        assert _reply_tasks(own_redis, ack["message"]) == queued
    finally:
        live_stack.process_start("worker")
        live_stack.process_start("extractor")
    _reply_to(live_stack, ack["message"])
    _answered_once(live_stack, token, client_id)


def test_replies_lost_with_a_redis_restarted_empty_are_queued_again_by_the_sweep(
    live_stack: Stack, own_redis: RedisServer, demo_site: Site
) -> None:
    # docs/deployment.md: the database is the record; the sweep (beat, on the extraction
    # worker) queues a lost reply again once it is SWEEP_AFTER_SECONDS old.
    live_stack.process_stop("worker")
    try:
        with _connect(live_stack) as ws:
            token = _hello(ws, None)["visitor"]
            client_id = str(uuid.uuid4())
            ack = _say(ws, client_id, "Hi! Which plans do you have?")
            assert ack["type"] == "ack"
            own_redis.kill()
            own_redis.wipe()
            own_redis.start()
        assert not _reply_tasks(own_redis, ack["message"])  # gone with the data
    finally:
        live_stack.process_start("worker")
    _reply_to(live_stack, ack["message"])
    _answered_once(live_stack, token, client_id)


def test_a_message_sent_while_redis_is_down_is_refused_or_kept_never_acked_and_lost(
    live_stack: Stack, own_redis: RedisServer, demo_site: Site
) -> None:
    client_id, text = str(uuid.uuid4()), "Hi, what does Acme Analytics cost per seat?"
    with _connect(live_stack) as ws:
        token = _hello(ws, None)["visitor"]
        own_redis.kill()
        try:
            # On the socket open from before, then on a new one as the widget reconnects.
            answers = [_say(ws, client_id, text), _say_anew(live_stack, token, client_id, text)]
        finally:
            own_redis.start()
    # Refused with a code the widget acts on (resend later), or acknowledged once stored.
    stored = Message.objects.filter(client_id=client_id).exists()
    for answer in answers:
        assert answer["type"] in ("ack", "error", "closed"), answers
        assert answer["type"] != "ack" or stored, answers
        assert answer["type"] != "error" or answer["code"] == "unavailable", answers
        assert answer["type"] != "closed" or answer["code"] == CLOSE_UNAVAILABLE, answers
    message_id = _deliver(live_stack, token, client_id, text)
    _reply_to(live_stack, message_id)
    _answered_once(live_stack, token, client_id)


@needs_postgres
def test_a_message_sent_while_the_database_is_gone_is_refused_then_stored_once(
    live_stack: Stack, db_relay: TcpRelay, demo_site: Site
) -> None:
    client_id, text = str(uuid.uuid4()), "Hello, can I book a demo for my team?"
    with _connect(live_stack) as ws:
        token = _hello(ws, None)["visitor"]
        db_relay.cut()
        try:
            refused = _say(ws, client_id, text)
        finally:
            db_relay.restore()
    assert (refused["type"], refused.get("code"), refused.get("id")) == (
        "error",
        "unavailable",
        client_id,
    ), refused
    assert not Message.objects.filter(client_id=client_id).exists()
    message_id = _deliver(live_stack, token, client_id, text)
    _reply_to(live_stack, message_id)
    _answered_once(live_stack, token, client_id)


@needs_postgres
def test_a_reply_the_database_cut_off_is_finished_once_it_is_back(
    live_stack: Stack, db_relay: TcpRelay, demo_site: Site
) -> None:
    Site.objects.filter(id=demo_site.id).update(reply_sentences=10)  # long: cut in the middle
    client_id = str(uuid.uuid4())
    text = "Write a long, detailed story about a salesman who travels the world."
    with _connect(live_stack) as ws:
        token = _hello(ws, None)["visitor"]
        ack = _say(ws, client_id, text)
        assert ack["type"] == "ack"
        _frames_until(ws, lambda f: f["type"] == "delta")
        db_relay.cut()
        try:
            writing = Message.objects.get(in_reply_to_id=ack["message"])
            assert writing.status == Message.Status.GENERATING  # cut while being written
            time.sleep(CUT_SECONDS)
        finally:
            db_relay.restore()
    _reply_to(live_stack, ack["message"])
    _answered_once(live_stack, token, client_id)


def test_a_reply_being_written_when_redis_crashes_is_finished_once(
    live_stack: Stack, own_redis: RedisServer, demo_site: Site
) -> None:
    Site.objects.filter(id=demo_site.id).update(reply_sentences=10)  # long: crash in the middle
    client_id = str(uuid.uuid4())
    text = "Write a long, detailed story about a salesman who travels the world."
    try:
        with _connect(live_stack) as ws:
            token = _hello(ws, None)["visitor"]
            ack = _say(ws, client_id, text)
            assert ack["type"] == "ack"
            _frames_until(ws, lambda f: f["type"] == "delta")
            own_redis.kill()
            own_redis.start()
        _reply_to(live_stack, ack["message"])
        # And the stack goes on answering: the next message too.
        then = str(uuid.uuid4())
        _reply_to(live_stack, _deliver(live_stack, token, then, "Thanks! How much is it?"))
        _answered_once(live_stack, token, client_id, then)
    finally:
        _revive(live_stack)
