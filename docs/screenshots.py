"""The screenshots in docs/, taken from a running `make run` with Debian's Chromium.

    make run &    # then, once it is up:
    .venv/bin/python docs/screenshots.py [--demo http://127.0.0.1:8001] [--app http://127.0.0.1:8000]

Writes docs/widget-desktop.png and docs/widget-mobile.png (the open widget on the demo host page
after a real exchange with the configured model), then chats as a few visitors and writes
docs/dashboard-list.png, docs/dashboard-detail.png, docs/dashboard-metrics.png and
docs/dashboard-knowledge.png (a question tried against the demo's knowledge), logged in as
the development superuser of var/dev-superuser.txt.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

DOCS = Path(__file__).resolve().parent
CREDENTIALS = DOCS.parent / "var" / "dev-superuser.txt"
VISITORS = [
    "Hi, I'm Ana Torres, head of sales at Initech. We need dashboards for 40 reps, budget "
    "around $20,000, starting next month. Reach me at ana@initech.example",
    "Hello, Marc Dubois from Globex here. Just looking at prices for a team of 8.",
    "Do you integrate with Salesforce? I'm Priya, ops at Umbrella, priya@umbrella.example",
    "Do you have a public API? We'd feed it from our own warehouse.",
]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REPLIED = """n => {
  const root = document.querySelector('#salesbot-widget').shadowRoot;
  return root.querySelector('.typing').hidden &&
    root.querySelectorAll('.msg.assistant:not(.failed)').length >= n;
}"""


def chat(page: Page, demo: str, text: str) -> None:
    page.goto(f"{demo}/")
    widget = page.locator("#salesbot-widget")
    widget.get_by_role("button", name="Open chat").click()
    widget.get_by_label("Your message").fill(text)
    widget.get_by_label("Your message").press("Enter")
    page.wait_for_function(REPLIED, arg=2, timeout=120_000)
    page.locator("body").click(position={"x": 5, "y": 5})  # no focus ring in the picture


def dashboard(browser: Browser, demo: str, app: str) -> None:
    for text in VISITORS:
        chat(browser.new_context().new_page(), demo, text)
    username, _, password = CREDENTIALS.read_text().strip().partition(":")
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{app}/dashboard/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("body[data-live='on']")
    page.wait_for_timeout(3000)  # the extraction worker reads the last messages
    page.reload()
    page.screenshot(path=DOCS / "dashboard-list.png")
    page.locator("#lead-table a", has_text="Ana").first.click()
    page.wait_for_selector("body[data-watching]")
    page.screenshot(path=DOCS / "dashboard-detail.png", full_page=True)
    page.goto(f"{app}/dashboard/metrics/")
    page.screenshot(path=DOCS / "dashboard-metrics.png", full_page=True)
    page.goto(f"{app}/dashboard/knowledge/?ask=Is+my+data+stored+in+the+EU%3F")
    page.screenshot(path=DOCS / "dashboard-knowledge.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default="http://127.0.0.1:8001", help="the demo host page")
    parser.add_argument("--app", default="http://127.0.0.1:8000", help="salesbot itself")
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        desktop = browser.new_context(viewport={"width": 1200, "height": 760}).new_page()
        chat(desktop, args.demo, "Hi! Do you offer a free trial for a team of 30?")
        desktop.screenshot(path=DOCS / "widget-desktop.png")
        phone = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2
        ).new_page()
        chat(phone, args.demo, "What does it cost per seat?")
        phone.screenshot(path=DOCS / "widget-mobile.png")
        dashboard(browser, args.demo, args.app)
        browser.close()
    print(f"wrote the widget-*.png and dashboard-*.png screenshots in {DOCS}")


if __name__ == "__main__":
    main()
