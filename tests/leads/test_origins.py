from __future__ import annotations

import pytest

from leads.origins import origin_allowed

PATTERNS = ["https://example.com", "https://*.shop.example", "http://localhost:*"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://example.com",
        "https://example.com:443",
        "https://www.shop.example",
        "http://localhost:8000",
        "http://localhost:3000",
        "http://localhost",
    ],
)
def test_allowed(origin):
    assert origin_allowed(origin, PATTERNS)


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "",
        "null",
        "http://example.com",
        "https://example.com:8443",
        "https://evil-example.com",
        "https://shop.example.evil.com",
        "https://localhost:8000",
        "not an origin",
    ],
)
def test_refused(origin):
    assert not origin_allowed(origin, PATTERNS)
