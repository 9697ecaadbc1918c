"""The real product on loopback: Redis, a Celery worker process and the ASGI server."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
import redis
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from salesbot.stack import Stack
from tests.conftest import ROOT

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(settings_dict: dict[str, object]) -> str:
    """The URL of the test database, for the server processes to share it."""
    engine = str(settings_dict["ENGINE"])
    name = str(settings_dict["NAME"])
    if engine.endswith("sqlite3"):
        return f"sqlite:///{name}"
    user = quote(str(settings_dict.get("USER") or ""))
    password = quote(str(settings_dict.get("PASSWORD") or ""))
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{name}"


@pytest.fixture(scope="module")
def stack_env(django_db_setup, django_db_blocker) -> dict[str, str]:
    """The environment of the product's processes: the test database, the bundled model."""
    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        LLM_MODELS_DIR=str(ROOT / "models"),
        LLM_MAX_NEW_TOKENS="40",
        LLM_N_CTX="2048",
        # The bundled model writes every reply (within the reply guard), not only the
        # acknowledgements its own capability allows: these tests are about the engine, the
        # server, streaming and failures, which a reply the product wrote alone never reaches.
        LLM_CAPABILITY="compose",
        CHANNELS_PREFIX="salesbot-test",
        # Each test's Sites are new rows (the database is flushed between tests), under the
        # same keys: the server must not keep the last test's.
        CHAT_SITE_CACHE_SECONDS="0",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="e2e-tests",
    )
    return env


@pytest.fixture(scope="module")
def live_stack(stack_env: dict[str, str], redis_url: str) -> Iterator[Stack]:
    """Per module, on an emptied Redis: its worker must not pick up other tests' queued tasks.

    With the demo host page on a port of its own: another origin than the app's.
    """
    redis.Redis.from_url(redis_url).flushdb()
    stack = Stack(
        port=free_port(),
        demo_port=free_port(),
        model_port=free_port(),
        env=stack_env | {"REDIS_URL": redis_url},
    ).start(timeout=90)
    try:
        yield stack
    finally:
        stack.stop()


# A session of the stack's processes inside a query or a transaction (a worker finishing a
# task the test set off, the server answering the page's last refresh).
_BUSY_SESSIONS = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'
"""


@pytest.fixture(autouse=True)
def stack_off_the_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test on the live stack, wait for its processes to leave the database alone.

    The test database is flushed (TRUNCATE) after each test: on PostgreSQL, a stack process
    still reading the tables takes locks the flush then deadlocks with. Set up after the
    database (so torn down before its flush); waits up to a minute, then ends those sessions;
    then empties the tables itself, again after a deadlock.
    """
    marker = request.node.get_closest_marker("django_db")
    if "live_stack" not in request.fixturenames or not (
        marker and marker.kwargs.get("transaction")
    ):
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    if connection.vendor == "postgresql":
        in_thread(_database_quiet)


# Polls in a row with no stack session busy before the tables are emptied: a worker between
# two tasks (a reply done, the lead's extraction next) is idle for a moment only.
_QUIET_POLLS = 4
_FLUSH_TRIES = 5


def _database_quiet() -> None:
    with connection.cursor() as cursor:
        quiet = 0
        for _ in range(120):
            cursor.execute(_BUSY_SESSIONS)
            quiet = quiet + 1 if cursor.fetchone()[0] == 0 else 0
            if quiet == _QUIET_POLLS:
                break
            time.sleep(0.5)
        else:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    # Emptied here, where a deadlock with a task that began meanwhile is tried again (its
    # victim may be the TRUNCATE); the test's own flush after it finds the tables empty.
    for attempt in range(_FLUSH_TRIES):
        try:
            call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
            return
        except CommandError:
            if attempt == _FLUSH_TRIES - 1:
                raise
            time.sleep(1)


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Chromium's own background traffic is refused on a closed network; these keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def demo_site(demo_site: Any) -> Any:
    """The demo Site with its knowledge base, embedded, as `make run` has it: a question it
    answers is written by the model (these tests run it as `compose`); one it does not cover
    would be the product's words alone, no model call to test."""
    from leads.services.setup import demo_knowledge_ensure

    demo_knowledge_ensure(demo_site)
    return demo_site


@pytest.fixture
def browser(live_stack: Stack, demo_site: object) -> Iterator[Any]:
    """Headless Debian Chromium (Playwright); missing, it skips — or fails under CI.

    It depends on the database fixtures so that they run first: Playwright's sync API keeps an
    event loop running in this thread, and Django refuses ORM calls while one runs (`in_thread`
    runs them beside it).
    """
    if not os.path.exists(CHROMIUM):
        message = f"no Chromium at {CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Any:
    """A desktop-sized page in a fresh browser context (its own localStorage)."""
    return browser.new_context(viewport={"width": 1200, "height": 760}).new_page()


def in_thread(fn: Callable[[], T]) -> T:
    """Run ORM code off the thread where Playwright's event loop runs."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_closing_connections(fn)).result()


def _closing_connections(fn: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        try:
            return fn()
        finally:
            connections.close_all()

    return run
