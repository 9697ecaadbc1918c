"""The dashboard as a rep sees it, beside a visitor chatting in the widget: headless Chromium
against the real stack (ASGI server, workers, bundled model), two browser contexts at once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from leads.models import Evidence, Lead, Message, Site
from leads.services.extraction import message_facts_extract
from leads.services.facts import lead_facts_correct
from leads.services.leads import lead_note_add, lead_owner_assign
from leads.services.messages import message_receive
from leads.services.takeover import conversation_takeover
from tests.e2e.conftest import in_thread
from tests.e2e.test_widget_browser import open_demo, replies, say, wait_until
from tests.leads.factories import lead_create, message_add

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


# ---- a rep's edits, in the browser ----------------------------------------------------------


def chatted_lead(site: Site, *lines: str) -> Lead:
    """A lead whose visitor said `lines` (the assistant answering each), read by the rules."""
    lead = lead_create(site)
    for line in lines:
        message = message_add(lead.conversation, line)
        message_facts_extract(message_id=message.id, extractor="rules")
        message_add(
            lead.conversation,
            "Thanks! How many people would use it?",
            role=Message.Role.ASSISTANT,
            in_reply_to=message,
            status=Message.Status.COMPLETE,
            first_token_ms=850,
            generation_ms=2400,
            prompt_tokens=310,
            completion_tokens=48,
            model_name="smollm2-135m",
        )
    lead.refresh_from_db()
    return lead


def test_a_rep_corrects_a_fact_notes_assigns_and_qualifies_and_the_bot_keeps_the_correction(
    live_stack, rep, demo_site, page
):
    lead = in_thread(
        lambda: chatted_lead(demo_site, "I'm Ana Torres from Initech, ana@initech.example")
    )
    assert lead.company == "Initech"
    log_in(page, live_stack.base_url)
    page.goto(f"{live_stack.base_url}/dashboard/leads/{lead.id}/")
    page.wait_for_selector("body[data-watching]")
    page.evaluate("window.notReloaded = true")

    # The company, corrected in place.
    facts = page.locator("#facts")
    facts.get_by_role("link", name="Edit company").click()
    facts.get_by_label("Company", exact=True).fill("Initech Europe")
    facts.get_by_role("button", name="Save").click()
    company = page.locator("#fact-company")
    company.locator(".value", has_text="Initech Europe").wait_for()
    assert "set by rita" in company.inner_text()
    # A wrong value is refused with a sentence, and the form keeps what was typed.
    facts.get_by_role("link", name="Edit phone").click()
    facts.get_by_label("Phone", exact=True).fill("call me maybe")
    facts.get_by_role("button", name="Save").click()
    facts.locator(".error", has_text="Not a phone number").wait_for()
    assert facts.get_by_label("Phone", exact=True).input_value() == "call me maybe"
    facts.get_by_role("link", name="Cancel").click()
    page.locator("#fact-phone .value", has_text="—").wait_for()

    # A note, the owner and the status: each lands in the history, live.
    note = page.get_by_label("Add a note")
    note.fill("Wants a call on Monday.\n<b>not bold</b>")
    history = page.locator("#history")
    # A colleague's note refreshes the history live; the one being written here stays.
    in_thread(lambda: lead_note_add(lead=Lead.objects.get(id=lead.id), text="Called them.", by=rep))
    history.locator("blockquote", has_text="Called them.").wait_for()
    assert note.input_value() == "Wants a call on Monday.\n<b>not bold</b>"
    page.get_by_role("button", name="Add note").click()
    history.locator("blockquote", has_text="Wants a call on Monday.").wait_for()
    assert history.locator("b").count() == 0  # a note is text, never markup
    page.get_by_label("Owner").select_option(label="rita")
    history.get_by_text("assigned the lead to").wait_for()
    page.get_by_label("Status").select_option(label="Qualified")
    page.locator("#summary .sub", has_text="(set by staff)").wait_for()
    history.get_by_text("moved the status from").wait_for()
    assert "set company from “Initech” to “Initech Europe”" in history.inner_text()

    # The visitor names the old company again: the worker's extraction reads it, and the
    # rep's correction still stands, on the page and in the database.
    message = in_thread(
        lambda: message_receive(
            conversation=Lead.objects.get(id=lead.id).conversation,
            text="As I said, I work at Initech.",
            client_id=uuid.uuid4(),
        )
    )
    wait_until(
        page,
        lambda: in_thread(
            lambda: Evidence.objects.filter(message_id=message.id, field="company").exists()
        ),
        timeout=120,
    )
    page.locator("#transcript").get_by_text("As I said, I work at Initech.").wait_for()
    stored = in_thread(lambda: Lead.objects.get(id=lead.id))
    assert (stored.company, stored.status, stored.owner_id) == (
        "Initech Europe",
        "qualified",
        rep.id,
    )
    assert company.locator(".value").inner_text() == "Initech Europe"
    assert page.evaluate("window.notReloaded") is True


def test_a_refresh_answered_after_the_rep_started_typing_keeps_the_draft(
    live_stack, rep, demo_site, page
):
    """A live refresh asked for while the composer was empty, answered once the rep has typed
    (a takeover's own event does this): the draft stays, and Send sends it."""
    lead = in_thread(lambda: chatted_lead(demo_site, "I'm Ana Torres from Initech"))
    in_thread(lambda: conversation_takeover(conversation=lead.conversation, by=rep))
    log_in(page, live_stack.base_url)
    page.goto(f"{live_stack.base_url}/dashboard/leads/{lead.id}/")
    page.wait_for_selector("body[data-live='on']")
    held: list[Any] = []
    page.route("**/*panel=takeover*", lambda route: held.append(route))
    page.evaluate(f"document.body.dispatchEvent(new CustomEvent('sb:lead-{lead.id}'))")
    wait_until(page, lambda: bool(held))
    composer = page.get_by_label("Message to the visitor")
    composer.fill("Hi Ana, Rita here.")
    with page.expect_response(lambda response: "panel=takeover" in response.url):
        held[0].continue_()
    # htmx marks the panel while its request runs: swapped or not, the mark is gone after.
    page.wait_for_function("() => !document.querySelector('#takeover.htmx-request')")
    assert composer.input_value() == "Hi Ana, Rita here."
    page.unroute("**/*panel=takeover*")
    page.get_by_role("button", name="Send", exact=True).click()
    page.locator("#transcript").get_by_text("Hi Ana, Rita here.").wait_for(timeout=30_000)
    assert in_thread(
        lambda: Message.objects.filter(
            conversation_id=lead.conversation_id, role="agent", text="Hi Ana, Rita here."
        ).exists()
    )


# ---- laptop and tablet layouts, and accessibility ---------------------------------------------

VIEWPORTS = {
    "laptop": {"width": 1366, "height": 768},
    "tablet-landscape": {"width": 1024, "height": 768},
    "tablet-portrait": {"width": 768, "height": 1024},
}

# What sticks out of the viewport sideways (the page scrolling, or a control cut off), and
# what a scrolling box hides: the lead table must fit without a sideways scroll.
OVERFLOW = """() => {
  const root = document.documentElement, width = root.clientWidth, out = [];
  if (root.scrollWidth > width) out.push(`the page is ${root.scrollWidth}px wide`);
  for (const el of document.querySelectorAll('main *, header *')) {
    if (!el.checkVisibility() || (el.closest('svg') && el.tagName !== 'svg')) continue;
    const box = el.getBoundingClientRect();
    if (box.width && (box.left < -1 || box.right > width + 1)) {
      const name = `${el.tagName.toLowerCase()}#${el.id}.${el.className}`;
      out.push(`${name} spans ${Math.round(box.left)} to ${Math.round(box.right)}px`);
    }
  }
  for (const box of document.querySelectorAll('.scroll')) {
    if (box.scrollWidth > box.clientWidth + 1) {
      out.push(`a table ${box.scrollWidth}px wide in ${box.clientWidth}px`);
    }
  }
  return out;
}"""


AT_THE_NEWEST = """() => {
  const list = document.querySelector('#transcript .messages');
  const bottom = list.scrollTop + list.clientHeight;
  return list.scrollHeight > list.clientHeight && bottom >= list.scrollHeight - 2;
}"""


@pytest.fixture
def busy_lead(demo_site: Site, rep: Any) -> Lead:
    """A site with a page of leads and one that has everything: a long transcript, facts with
    quotes, a correction, notes, an owner, a rep in the chat, and replies with timings."""

    def build() -> Lead:
        for n in range(30):
            lead_create(demo_site, name=f"Visitor Number {n}", score=n * 3)
        lead = chatted_lead(
            demo_site,
            "Hi, I'm Maximiliane Oberhauser-Lindqvist, Head of Revenue Operations at "
            "Initech Worldwide Logistics and Freight Solutions GmbH.",
            "Reach me at maximiliane.oberhauser-lindqvist@initech-worldwide-logistics.example "
            "or +49 30 901820.",
            "We need a CRM for 120 seats, our budget is €45,000 and we want to start in 2 months.",
            "I sign off on purchases like this one.",
        )
        lead_facts_correct(lead=lead, values={"job_title": "VP Revenue Operations"}, by=rep)
        lead_note_add(lead=lead, text="Spoke on the phone; sending a proposal.", by=rep)
        lead_owner_assign(lead=lead, owner=rep, by=rep)
        conversation_takeover(conversation=lead.conversation, by=rep)
        message_add(
            lead.conversation,
            "Hi Maximiliane, Rita here.",
            role=Message.Role.AGENT,
            author=rep,
            status=Message.Status.COMPLETE,
        )
        return lead

    return in_thread(build)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_dashboard_page_fits_a_laptop_and_a_tablet(live_stack, busy_lead, browser, viewport):
    page = browser.new_context(viewport=VIEWPORTS[viewport]).new_page()
    log_in(page, live_stack.base_url)
    for path in ["/dashboard/", f"/dashboard/leads/{busy_lead.id}/", "/dashboard/metrics/"]:
        page.goto(f"{live_stack.base_url}{path}")
        page.wait_for_selector("body[data-live='on']")
        assert page.evaluate(OVERFLOW) == [], f"{path} at {viewport}"
    # A long transcript opens on its newest message.
    page.goto(f"{live_stack.base_url}/dashboard/leads/{busy_lead.id}/")
    page.wait_for_selector("body[data-live='on']")
    assert page.evaluate(AT_THE_NEWEST)
    # The filters, the table and the pages are all there to use.
    page.goto(f"{live_stack.base_url}/dashboard/")
    for name in ["Search", "Site", "Owner", "Sort by"]:
        assert page.get_by_label(name, exact=True).is_visible()
    assert page.get_by_role("link", name="Next").is_visible()


def test_the_dashboard_pages_have_no_accessibility_violations(live_stack, busy_lead, page):
    from axe_playwright_python.sync_playwright import Axe

    log_in(page, live_stack.base_url)
    checked: set[str] = set()
    for path in ["/dashboard/", f"/dashboard/leads/{busy_lead.id}/", "/dashboard/metrics/"]:
        page.goto(f"{live_stack.base_url}{path}")
        page.wait_for_selector("body[data-live='on']")
        results = Axe().run(page)
        assert results.violations_count == 0, f"{path}: {results.generate_report()}"
        checked |= {rule["id"] for rule in results.response["passes"]}
    assert {
        "color-contrast",
        "label",
        "button-name",
        "landmark-one-main",
        "page-has-heading-one",
    } <= checked


def test_the_content_security_policy_blocks_nothing_of_our_own(live_stack, busy_lead, page):
    """Every script, style and socket of the dashboard and the admin comes from the app itself:
    the policy that stops an injected script lets all of them through."""
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, live_stack.base_url)
    for path in ["/dashboard/", f"/dashboard/leads/{busy_lead.id}/", "/dashboard/metrics/"]:
        response = page.goto(f"{live_stack.base_url}{path}")
        assert (
            response is not None
            and "script-src 'self'" in response.headers["content-security-policy"]
        )
        page.wait_for_selector("body[data-live='on']")
    # A live refresh leaves a fact being edited alone, without evaluating code (no eval under
    # the policy: htmx would report evalDisallowedError).
    page.goto(f"{live_stack.base_url}/dashboard/leads/{busy_lead.id}/")
    page.wait_for_selector("body[data-live='on']")
    page.evaluate(
        "() => { window.evalErrors = 0; document.body.addEventListener("
        "'htmx:evalDisallowedError', () => window.evalErrors++); }"
    )
    facts = page.locator("#facts")
    facts.get_by_role("link", name="Edit company").click()
    facts.get_by_label("Company", exact=True).wait_for()
    page.evaluate(f"htmx.trigger(document.body, 'sb:lead-{busy_lead.id}')")
    page.wait_for_timeout(1000)
    assert facts.get_by_label("Company", exact=True).is_visible()
    assert page.evaluate("window.evalErrors") == 0
    # An inline script a page were tricked into carrying does not run.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = true'; document.body.appendChild(s); }"
    )
    assert page.evaluate("window.injected === undefined")
    assert any("Content Security Policy" in text for text in blocked)
    blocked.clear()
    page.goto(f"{live_stack.base_url}/admin/login/?next=/admin/")
    page.goto(f"{live_stack.base_url}/admin/leads/lead/{busy_lead.id}/change/")
    assert blocked == []
