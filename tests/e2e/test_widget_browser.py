"""The widget as a visitor sees it: headless Chromium on the demo host page, which is served
from another origin than the app (the real stack: ASGI server, workers, bundled model)."""

from __future__ import annotations

import json
import os
import signal
from typing import Any

import pytest

from leads.models import Conversation, Lead, Message, Site
from leads.services.leads import lead_erase
from leads.services.setup import DEMO_ORIGINS
from leads.signing import token_digest
from tests.e2e.conftest import in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REPLY_TIMEOUT = 20


@pytest.fixture(scope="module")
def stack_env(stack_env: dict[str, str]) -> dict[str, str]:
    # A fast heartbeat and a short wait for replies, so that the tests of both are quick.
    return stack_env | {
        "CHAT_HEARTBEAT_SECONDS": "2",
        "CHAT_REPLY_TIMEOUT_SECONDS": str(REPLY_TIMEOUT),
    }


ROOT_JS = "document.querySelector('#salesbot-widget').shadowRoot"
REPLIES = f"""n => {{
  const root = {ROOT_JS};
  return root.querySelector('.typing').hidden &&
    root.querySelectorAll('.msg.assistant:not(.failed)').length >= n;
}}"""


def replies(page: Any, n: int) -> None:
    """Wait until `n` assistant messages show (the greeting is the first) and typing is off."""
    page.wait_for_function(REPLIES, arg=n, timeout=120_000)


def open_demo(page: Any, url: str, query: str = "") -> Any:
    page.goto(f"{url}/{query}")
    widget = page.locator("#salesbot-widget")
    widget.get_by_role("button", name="Open chat").click()
    return widget


def say(widget: Any, text: str) -> None:
    box = widget.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")


def frames(page: Any) -> list[dict[str, Any]]:
    """Every frame the page's WebSockets receive, from now on."""
    seen: list[dict[str, Any]] = []
    page.on(
        "websocket", lambda ws: ws.on("framereceived", lambda data: seen.append(json.loads(data)))
    )
    return seen


def wait_until(page: Any, condition: Any, timeout: float = 30) -> None:
    """Poll `condition` while Playwright keeps processing events."""
    for _ in range(int(timeout * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("timed out waiting")


def test_embedded_cross_origin_it_streams_a_reply_and_follows_the_visitor(live_stack, page):
    assert live_stack.demo_url != live_stack.base_url  # another port: another origin
    seen = frames(page)
    widget = open_demo(page, live_stack.demo_url)
    say(widget, "Hi! Do you offer a free trial?")
    replies(page, 2)
    texts = widget.locator(".msg .body").all_inner_texts()
    assert texts[0] == "Hi! I'm Acme's assistant. What brings you here today?"  # the greeting
    assert texts[1] == "Hi! Do you offer a free trial?" and texts[2].strip()
    # Streamed: whole sentences as each passes the reply guard, before the final frame.
    kinds = [f["type"] for f in seen]
    assert "delta" in kinds and kinds.index("delta") < kinds.index("reply"), kinds
    # The host page's CSP allows no inline styles: the widget is styled all the same.
    launcher = widget.get_by_role("button", name="Open chat")
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(31, 94, 255)"

    page.get_by_role("link", name="Pricing").click()  # a new page of the same site
    page.wait_for_url("**/pricing/**")
    wait_until(page, lambda: widget.locator(".msg .body").all_inner_texts() == texts)
    assert widget.get_by_label("Your message").is_visible()  # it stayed open

    page.reload()
    wait_until(page, lambda: widget.locator(".msg .body").all_inner_texts() == texts)


def test_a_message_typed_while_the_server_is_down_is_delivered_once(live_stack, page):
    widget = open_demo(page, live_stack.demo_url)
    say(widget, "Hello?")
    replies(page, 2)
    banner = widget.get_by_role("status").filter(has_text="Connecting")

    live_stack.process_stop("web")
    banner.wait_for(state="visible", timeout=30_000)
    say(widget, "Are you still there?")
    queued = widget.locator(".msg.visitor").last
    assert "Sending" in queued.inner_text()

    live_stack.process_start("web")
    replies(page, 3)  # reconnected, sent once, answered
    banner.wait_for(state="hidden")
    assert "Sent" in queued.inner_text()
    count = in_thread(lambda: Message.objects.filter(text="Are you still there?").count())
    assert count == 1
    page.reload()
    wait_until(page, lambda: len(widget.locator(".msg.visitor").all()) == 2)
    visitor_texts = widget.locator(".msg.visitor .body").all_inner_texts()
    assert visitor_texts == ["Hello?", "Are you still there?"]


def test_a_message_queued_offline_survives_a_reload_and_is_then_delivered(live_stack, page):
    widget = open_demo(page, live_stack.demo_url)
    say(widget, "First")
    replies(page, 2)
    live_stack.process_stop("web")
    widget.get_by_role("status").filter(has_text="Connecting").wait_for(timeout=30_000)
    say(widget, "Typed offline")
    # The page comes from the host, the script from the cache, the settings and outbox from storage.
    page.reload()
    queued = widget.locator(".msg.visitor").filter(has_text="Typed offline")
    queued.filter(has_text="Sending").wait_for()
    live_stack.process_start("web")
    queued.filter(has_text="Sent").wait_for(timeout=60_000)
    assert in_thread(lambda: Message.objects.filter(text="Typed offline").count()) == 1


def test_a_connection_that_stops_answering_is_noticed_by_the_heartbeat(live_stack, page):
    seen = frames(page)
    widget = open_demo(page, live_stack.demo_url)
    wait_until(page, lambda: any(f["type"] == "pong" for f in seen))
    banner = widget.get_by_role("status").filter(has_text="Connecting")
    web = live_stack.processes["web"].pid
    os.kill(web, signal.SIGSTOP)  # the socket stays open, but nothing answers any more
    try:
        banner.wait_for(state="visible", timeout=30_000)
    finally:
        os.kill(web, signal.SIGCONT)
    welcomes = sum(f["type"] == "welcome" for f in seen)
    banner.wait_for(state="hidden", timeout=60_000)
    wait_until(page, lambda: sum(f["type"] == "welcome" for f in seen) > welcomes)


def test_when_no_reply_comes_the_typing_indicator_gives_way_to_a_notice(live_stack, page):
    live_stack.process_stop("worker")
    try:
        widget = open_demo(page, live_stack.demo_url)
        say(widget, "Is anyone there?")
        notice = widget.locator(".msg.failed").filter(has_text="No answer yet")
        notice.wait_for(timeout=(REPLY_TIMEOUT + 30) * 1000)
        assert widget.locator(".typing").is_hidden()
    finally:
        live_stack.process_start("worker")
    replies(page, 2)  # the queued reply comes once a worker is back
    assert notice.count() == 0


@pytest.fixture
def locked_site(db):
    return Site.objects.create(
        key="locked", name="Locked", allowed_origins=["https://shop.example"]
    )


def test_a_page_on_a_disallowed_origin_gets_no_chat(live_stack, locked_site, page):
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text))
    sockets: list[Any] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    page.goto(f"{live_stack.demo_url}/?site=locked")
    wait_until(page, lambda: any("may not embed" in w for w in warnings))
    assert page.locator("#salesbot-widget").count() == 0
    assert sockets == []


def test_the_server_closes_the_chat_once_the_origin_is_no_longer_allowed(
    live_stack, demo_site, page
):
    widget = open_demo(page, live_stack.demo_url)
    say(widget, "Hi")
    replies(page, 2)

    def lock() -> None:
        Site.objects.filter(id=demo_site.id).update(allowed_origins=["https://shop.example"])

    in_thread(lock)
    page.reload()  # the cached configuration mounts the widget; the WebSocket is refused
    page.locator("#salesbot-widget").wait_for(state="detached", timeout=30_000)


@pytest.fixture
def consent_site(db):
    return Site.objects.create(
        key="consent",
        name="Careful Co",
        allowed_origins=DEMO_ORIGINS,
        privacy_notice_url="https://careful.example/privacy",
        consent_required=True,
        theme={"color": "#ffd400", "position": "left"},
    )


def test_a_site_that_asks_for_consent_gets_it_before_the_first_message(
    live_stack, consent_site, page
):
    widget = open_demo(page, live_stack.demo_url, "?site=consent")
    box = widget.get_by_label("Your message")
    assert box.is_disabled()
    link = widget.get_by_role("link", name="Privacy notice")
    assert link.get_attribute("href") == "https://careful.example/privacy"
    accept = widget.get_by_role("button", name="Accept and chat")
    assert accept.evaluate(f"b => {ROOT_JS}.activeElement === b")  # focus went to it
    accept.click()
    assert box.is_enabled() and accept.count() == 0
    say(widget, "Hello, careful people")
    replies(page, 1)

    def consent() -> tuple[object, str]:
        conversation = Conversation.objects.get(site__key="consent")
        return conversation.consent_at, conversation.consent_notice

    at, notice = in_thread(consent)
    assert at is not None and notice == "https://careful.example/privacy"


def test_the_host_page_identifies_its_visitor_and_hears_of_the_qualified_lead(live_stack, page):
    page.goto(f"{live_stack.demo_url}/")
    page.get_by_role("button", name="Log in as Jane Doe").click()  # salesbot.identify(...)
    page.get_by_role("button", name="Talk to sales").click()  # salesbot.open()
    widget = page.locator("#salesbot-widget")
    say(
        widget,
        "I'm the VP of Sales at Lumio Labs and I make the call on tools. We need dashboards "
        "for 30 reps, our budget is $20,000 a year, and we want to start next month.",
    )
    events = page.locator("#events li")
    events.filter(has_text="salesbot:lead-qualified").wait_for(timeout=120_000)
    assert events.first.inner_text().startswith("salesbot:ready")
    lead = in_thread(lambda: Lead.objects.get(site__key="demo"))
    assert (lead.email, lead.name, lead.status) == ("jane@example.com", "Jane Doe", "qualified")


def test_keyboard_alone_opens_sends_and_closes(live_stack, page):
    page.goto(f"{live_stack.demo_url}/")
    widget = page.locator("#salesbot-widget")
    launcher = widget.get_by_role("button", name="Open chat")
    launcher.wait_for()  # drawn once its configuration has loaded: Tab must find it there
    page.get_by_role("button", name="Log in as Jane Doe").focus()
    page.keyboard.press("Tab")  # the next stop is the launcher, inside the shadow root
    assert launcher.evaluate(f"b => {ROOT_JS}.activeElement === b")
    page.keyboard.press("Enter")
    box = widget.get_by_label("Your message")
    assert box.evaluate(f"b => {ROOT_JS}.activeElement === b")
    page.keyboard.type("Just browsing")
    page.keyboard.press("Enter")
    widget.locator(".msg.visitor").filter(has_text="Sent").wait_for()
    page.keyboard.press("Escape")
    assert widget.get_by_role("dialog").is_hidden()
    assert launcher.evaluate(f"b => {ROOT_JS}.activeElement === b")


def test_the_open_widget_has_no_accessibility_violations(live_stack, page):
    from axe_playwright_python.sync_playwright import Axe

    widget = open_demo(page, live_stack.demo_url)
    say(widget, "What does it cost?")
    replies(page, 2)
    results = Axe().run(page, context={"include": [["#salesbot-widget"]]})
    assert results.violations_count == 0, results.generate_report()
    checked = {rule["id"] for rule in results.response["passes"]}
    assert {"color-contrast", "button-name", "aria-dialog-name", "label"} <= checked


@pytest.mark.parametrize(
    ("lang", "open_label", "placeholder", "send"),
    [
        ("de", "Chat öffnen", "Nachricht eingeben…", "Senden"),
        ("es", "Abrir el chat", "Escribe un mensaje…", "Enviar"),
        ("fr", "Ouvrir le chat", "Écrivez un message…", "Envoyer"),
    ],
)
def test_texts_follow_the_page_language(live_stack, page, lang, open_label, placeholder, send):
    page.goto(f"{live_stack.demo_url}/?lang={lang}")
    widget = page.locator("#salesbot-widget")
    widget.get_by_role("button", name=open_label).click()
    assert widget.locator("textarea").get_attribute("placeholder") == placeholder
    assert widget.get_by_role("button", name=send).is_visible()


def test_without_a_known_page_language_the_browsers_is_used(live_stack, browser):
    page = browser.new_context(locale="fr-FR").new_page()
    page.goto(f"{live_stack.demo_url}/?lang=nl")
    page.locator("#salesbot-widget").get_by_role("button", name="Ouvrir le chat").wait_for()


def test_on_a_phone_it_opens_full_screen_and_keeps_focus_inside(live_stack, browser):
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    widget = open_demo(page, live_stack.demo_url)
    box = widget.get_by_role("dialog").bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)
    assert widget.locator(".launcher").is_hidden()
    inside = f"() => {ROOT_JS}.activeElement !== null"
    for _ in range(6):
        page.keyboard.press("Tab")
        assert page.evaluate(inside), "focus left the full-screen chat"


def test_assistant_text_is_formatted_safely(live_stack, page):
    widget = open_demo(page, live_stack.demo_url)
    say(widget, "Hi")
    replies(page, 2)
    token = json.loads(page.evaluate("localStorage.getItem('salesbot:demo:visitor')"))
    text = (
        "**Plans:**\n- Starter: https://acme.example/starter.\n- [Team](https://acme.example/team)"
        '\n\n<img src=x onerror="window.__pwned=1"> [bad](javascript:window.__pwned=1)'
    )

    def store() -> None:
        conversation = Conversation.objects.get(visitor__token=token_digest(token))
        Message.objects.create(conversation=conversation, role="assistant", text=text)

    in_thread(store)
    page.reload()
    last = widget.locator(".msg.assistant").last
    last.locator("li").nth(1).wait_for()
    assert last.locator("strong").inner_text() == "Plans:"
    links = last.locator("a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        "https://acme.example/starter",
        "https://acme.example/team",
    ]
    assert "noopener" in links.first.get_attribute("rel")
    assert last.locator("img").count() == 0
    assert '<img src=x onerror="window.__pwned=1">' in last.inner_text()
    assert "[bad](javascript:window.__pwned=1)" in last.inner_text()
    assert page.evaluate("window.__pwned") is None


def test_visitor_text_is_rendered_as_text_never_as_html(live_stack, page):
    widget = open_demo(page, live_stack.demo_url)
    payload = '<img src=x onerror="window.__pwned=1"><b>bold</b>'
    say(widget, payload)
    replies(page, 2)
    assert widget.locator(".msg.visitor .body").inner_text() == payload
    assert widget.locator(".msg img, .msg b").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_a_message_sent_while_the_assistant_answers_is_answered_next(live_stack, demo_site, page):
    """The server takes one message at a time per conversation ("busy"): the widget holds the
    second until the first reply is done, then sends it, and both are answered in order."""
    seen = frames(page)
    widget = open_demo(page, live_stack.demo_url)
    say(widget, "Hi there")
    say(widget, "What does it cost?")
    replies(page, 3)  # the greeting and two replies
    assert any(frame.get("code") == "busy" for frame in seen)
    assert widget.locator(".msg.visitor.failed").count() == 0

    def stored() -> list[tuple[str, str]]:
        return list(
            Message.objects.filter(conversation__site=demo_site)
            .order_by("id")
            .values_list("role", "text")
        )

    wait_until(page, lambda: len(in_thread(stored)) == 4)
    assert [role for role, _ in in_thread(stored)] == ["visitor", "assistant"] * 2
    assert in_thread(stored)[2][1] == "What does it cost?"


@pytest.fixture
def quiet_site(demo_site):  # type: ignore[no-untyped-def]
    """The demo site closing a socket after two idle seconds."""

    def limit(seconds: int | None) -> None:
        Site.objects.filter(id=demo_site.id).update(
            limits={"idle_seconds": seconds} if seconds else {}
        )

    in_thread(lambda: limit(2))
    yield demo_site
    in_thread(lambda: limit(None))


def test_an_idle_chat_closes_quietly_and_opens_again_when_the_visitor_types(
    live_stack, quiet_site, page
):
    sockets: list[Any] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    widget = open_demo(page, live_stack.demo_url)
    wait_until(page, lambda: bool(sockets) and sockets[0].is_closed(), timeout=15)
    page.wait_for_timeout(1000)  # no reconnect and no "offline" notice meanwhile
    assert len(sockets) == 1 and widget.locator(".banner").is_hidden()
    say(widget, "Hello again")
    replies(page, 2)
    assert len(sockets) == 2


def test_an_erased_conversation_leaves_the_visitors_browser_too(live_stack, demo_site, page):
    widget = open_demo(page, live_stack.demo_url)
    say(widget, "I'm Ana Torres, ana@lumio.io")
    replies(page, 2)
    visitor = page.evaluate("localStorage.getItem('salesbot:demo:visitor')")

    def erase() -> None:
        lead_erase(lead=Lead.objects.get(site=demo_site), by=None)

    in_thread(erase)
    widget.locator(".msg.visitor").wait_for(state="detached", timeout=30_000)
    assert "ana@lumio.io" not in widget.inner_text()
    say(widget, "Hello again")
    replies(page, 2)
    assert page.evaluate("localStorage.getItem('salesbot:demo:visitor')") != visitor
    assert in_thread(lambda: Conversation.objects.filter(site=demo_site).count()) == 2


def test_reset_and_another_identified_person_start_a_new_conversation(live_stack, page):
    """A shared computer: the host page's salesbot.reset() (a log-out), or identify() naming
    another email, leaves the next person nothing of the previous one's chat."""
    widget = open_demo(page, live_stack.demo_url)
    page.evaluate("salesbot.identify({email: 'jane@example.com', name: 'Jane Doe'})")
    say(widget, "Hi, I'm Jane from Lumio")
    replies(page, 2)
    first = page.evaluate("localStorage.getItem('salesbot:demo:visitor')")

    page.evaluate("salesbot.identify({email: 'bo@example.com', name: 'Bo Chen'})")
    widget.locator(".msg.visitor").wait_for(state="detached", timeout=10_000)
    say(widget, "Bo here")
    replies(page, 2)
    second = page.evaluate("localStorage.getItem('salesbot:demo:visitor')")

    page.evaluate("salesbot.reset()")  # Bo logs out
    widget.locator(".msg.visitor").wait_for(state="detached", timeout=10_000)
    say(widget, "Hello, a new visitor here")
    replies(page, 2)
    third = page.evaluate("localStorage.getItem('salesbot:demo:visitor')")
    assert len({first, second, third}) == 3
    emails = in_thread(
        lambda: sorted(Lead.objects.filter(site__key="demo").values_list("email", flat=True))
    )
    assert emails == ["", "bo@example.com", "jane@example.com"]
