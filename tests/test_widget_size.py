"""The widget is what every page of a customer's site downloads: it stays within its budget."""

from __future__ import annotations

import gzip

from tests.conftest import ROOT

WIDGET = ROOT / "static" / "salesbot" / "widget.js"
BUDGET = 15 * 1024  # bytes, gzipped (issue 5)


def test_the_widget_is_at_most_15_kb_gzipped():
    size = len(gzip.compress(WIDGET.read_bytes(), compresslevel=9))
    assert size <= BUDGET, f"widget.js is {size} bytes gzipped; the budget is {BUDGET}"


def test_the_widget_never_assigns_html():
    source = WIDGET.read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source, f"widget.js uses {sink}"
