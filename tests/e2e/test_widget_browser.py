"""The widget as a visitor sees it: headless Chromium on the demo page of the real stack."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REPLY_DONE = """() => {
  const root = document.querySelector('#salesbot-widget').shadowRoot;
  return root.querySelector('.typing').hidden && root.querySelectorAll('.msg.assistant').length > 0;
}"""


def test_the_demo_page_chat_streams_a_reply_and_survives_a_reload(live_stack, page):
    deltas_seen = []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda payload: deltas_seen.append(payload) if '"delta"' in str(payload) else None,
        ),
    )
    page.goto(f"{live_stack.base_url}/demo/")
    widget = page.locator("#salesbot-widget")
    widget.get_by_role("button", name="Open chat").click()
    widget.get_by_label("Your message").fill("Hi! Do you offer a free trial?")
    widget.get_by_label("Your message").press("Enter")
    page.wait_for_function(REPLY_DONE, timeout=120_000)
    texts = widget.locator(".msg").all_inner_texts()
    assert texts[0] == "Hi! Do you offer a free trial?"
    assert len(texts) == 2 and texts[1].strip()
    assert deltas_seen, "the reply arrived in streamed deltas"

    page.reload()
    page.locator("#salesbot-widget").get_by_role("button", name="Open chat").click()
    page.wait_for_function(
        "() => document.querySelector('#salesbot-widget').shadowRoot"
        ".querySelectorAll('.msg').length === 2",
        timeout=30_000,
    )
    assert page.locator("#salesbot-widget .msg").all_inner_texts() == texts


def test_visitor_text_is_rendered_as_text_never_as_html(live_stack, page):
    page.goto(f"{live_stack.base_url}/demo/")
    widget = page.locator("#salesbot-widget")
    widget.get_by_role("button", name="Open chat").click()
    payload = '<img src=x onerror="window.__pwned=1"><b>bold</b>'
    widget.get_by_label("Your message").fill(payload)
    widget.get_by_label("Your message").press("Enter")
    page.wait_for_function(REPLY_DONE, timeout=120_000)
    assert widget.locator(".msg.visitor").inner_text() == payload
    assert widget.locator("img, b").count() == 0
    assert page.evaluate("window.__pwned") is None
