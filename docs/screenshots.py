"""The widget's screenshots in docs/, taken from a running `make run` with Debian's Chromium.

    make run &    # then, once it is up:
    .venv/bin/python docs/screenshots.py [--demo http://127.0.0.1:8001]

Writes docs/widget-desktop.png and docs/widget-mobile.png: the open widget on the demo host
page after a real exchange with the configured model.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

DOCS = Path(__file__).resolve().parent
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default="http://127.0.0.1:8001", help="the demo host page")
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
        browser.close()
    print(f"wrote {DOCS / 'widget-desktop.png'} and {DOCS / 'widget-mobile.png'}")


if __name__ == "__main__":
    main()
