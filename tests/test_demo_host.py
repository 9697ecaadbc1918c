"""The demo host page: a stand-in customer site on its own origin, under a strict CSP."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from salesbot.demo_host import DemoHostServer, content_security_policy, demo_page

APP = "http://127.0.0.1:8000"


@pytest.fixture
def demo_host() -> Iterator[str]:
    server = DemoHostServer(("127.0.0.1", 0), APP)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_page_embeds_the_widget_from_the_app_with_one_tag():
    html = demo_page(app_url=APP, site_key="demo")
    assert f'<script src="{APP}/static/salesbot/widget.js" data-site="demo" async></script>' in html


def test_what_the_query_puts_in_the_page_is_escaped():
    html = demo_page(app_url=APP, site_key='"><script>alert(1)</script>', lang='en"><x')
    assert "<script>alert(1)" not in html and '<html lang="en&quot;&gt;&lt;x">' in html


def test_the_csp_allows_the_app_and_nothing_else():
    policy = content_security_policy(APP)
    assert f"script-src 'self' {APP};" in policy
    assert f"connect-src 'self' {APP} ws://127.0.0.1:8000;" in policy
    assert "style-src 'self';" in policy  # no 'unsafe-inline': the widget must not need it


def test_pages_are_served_with_the_csp(demo_host):
    with urllib.request.urlopen(f"{demo_host}/pricing/?site=demo&lang=de") as response:
        body = response.read().decode()
        assert response.headers["Content-Security-Policy"] == content_security_policy(APP)
    assert '<html lang="de">' in body and "<h2>Pricing</h2>" in body


def test_its_own_assets_are_served_and_nothing_else(demo_host):
    with urllib.request.urlopen(f"{demo_host}/demo.js") as response:
        assert response.headers["Content-Type"] == "text/javascript"
    for path in ("/missing.js", "/../salesbot/settings.py", "/%2e%2e/settings.py"):
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{demo_host}{path}")
        assert caught.value.code == 404
