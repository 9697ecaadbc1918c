"""The dashboard as a rep sees it, beside a visitor chatting in the widget: headless Chromium
against the real stack (ASGI server, workers, bundled model), two browser contexts at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from leads.models import Message, Site
from tests.e2e.conftest import in_thread
from tests.e2e.test_widget_browser import open_demo, replies, say, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "rita-sells-2026"


@pytest.fixture(scope="module")
def stack_env(stack_env: dict[str, str]) -> dict[str, str]:
    # Plain http on loopback: cookies must not require TLS.
    return stack_env | {"DJANGO_SECURE_COOKIES": "false"}


@pytest.fixture
def rep(demo_site: Site) -> Any:
    """A sales rep on the demo site's team (staff, not a superuser)."""
    user = get_user_model().objects.create_user(
        "rita", password=PASSWORD, first_name="Rita", is_staff=True
    )
    demo_site.team.add(user)
    return user


def log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/dashboard/")
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")
    page.wait_for_selector("body[data-live='on']")


def test_a_lead_appears_live_and_a_rep_takes_the_conversation_over(live_stack, rep, browser, page):
    log_in(page, live_stack.base_url)
    assert page.get_by_text("No leads yet.").is_visible()  # the empty state
    page.evaluate("window.notReloaded = true")

    visitor = browser.new_context(viewport={"width": 1200, "height": 760}).new_page()
    widget = open_demo(visitor, live_stack.demo_url)
    say(widget, "Hi, I'm Ana Torres from Initech. My email is ana@initech.example")
    replies(visitor, 2)

    # The lead shows on the open list, without a reload.
    row = page.locator("#lead-table tr", has_text="Ana Torres")
    row.wait_for(timeout=60_000)
    assert "ana@initech.example" in row.inner_text()
    assert "New" in row.inner_text()  # created since the rep looked
    assert page.evaluate("window.notReloaded") is True

    row.get_by_role("link", name="Ana Torres").click()
    page.wait_for_selector("body[data-watching]")
    transcript = page.locator("#transcript")
    assert "My email is ana@initech.example" in transcript.inner_text()
    assert "ana@initech.example" in page.locator("#fact-email").inner_text()

    page.get_by_role("button", name="Take over the conversation").click()
    page.get_by_label("Message to the visitor").wait_for()
    widget.locator(".msg.system", has_text="Rita joined the chat.").wait_for(timeout=30_000)

    page.get_by_label("Message to the visitor").fill(
        "Hi Ana, Rita from sales here. How can I help?"
    )
    page.get_by_role("button", name="Send", exact=True).click()
    sent = widget.locator(".msg.agent", has_text="Rita from sales here")
    sent.wait_for(timeout=30_000)
    assert sent.locator(".who").inner_text() == "Rita"

    # The visitor answers the rep: it shows on the rep's page live, and the bot keeps quiet.
    say(widget, "Can we book a demo next week?")
    transcript.get_by_text("Can we book a demo next week?").wait_for(timeout=30_000)
    question = in_thread(lambda: Message.objects.get(text="Can we book a demo next week?"))
    assert in_thread(lambda: not Message.objects.filter(in_reply_to=question).exists())
    assert widget.locator(".typing").is_hidden()
    # The model suggests what the rep could answer, streamed into the page.
    suggestion = page.locator("#suggestion[data-state='done'] .text")
    suggestion.wait_for(timeout=120_000)
    assert suggestion.inner_text().strip()

    page.get_by_role("button", name="Hand back to the assistant").click()
    widget.locator(".msg.system", has_text="The assistant is back.").wait_for(timeout=30_000)
    # The question the rep left unanswered goes to the assistant.
    wait_until(
        visitor,
        lambda: in_thread(
            lambda: Message.objects.filter(in_reply_to=question, status="complete").exists()
        ),
        timeout=120,
    )
    visitor.context.close()
