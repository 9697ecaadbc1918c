"""A Site's documents read into passages (leads/documents.py): each kind, headings kept, long
text split at paragraphs and sentences, and a clear refusal for what cannot be read."""

from __future__ import annotations

import pytest

from leads.documents import (
    HEADING_SEPARATOR,
    Kind,
    Section,
    document_sections,
    kind_of,
    passages_of,
)
from leads.errors import DocumentInvalid

MARKDOWN = b"""# Lumio

Lumio turns spreadsheets into **live dashboards**.

## Pricing

### Teams

EUR 12 a seat a month, billed yearly. See [the price list](https://lumio.example/prices).

- Up to 50 seats
- SSO included

## Data residency

All data is stored in Frankfurt (EU).
"""

HTML = b"""<!doctype html><html><head><title>x</title><style>p{}</style>
<script>var secret = "not text";</script></head><body>
<nav><a href="/">Home</a></nav>
<h1>Lumio</h1><p>Lumio turns spreadsheets into <b>live dashboards</b>.</p>
<h2>Support</h2><ul><li>Email, <em>24 hours</em> a day</li><li>Spanish and English</li></ul>
<footer>(c) Lumio</footer></body></html>"""


def _pdf(*pages: str) -> bytes:
    """A PDF with one line of Helvetica text a page, written as the format describes it."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        page_id, content_id = len(objects) + 1, len(objects) + 2
        kids.append(f"{page_id} 0 R")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> "
            ">> >> >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode()}\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R >>"
    out += f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_markdown_keeps_the_headings_above_each_stretch_of_text():
    sections = document_sections(MARKDOWN, Kind.MARKDOWN)
    assert sections == [
        Section(("Lumio",), "Lumio turns spreadsheets into live dashboards."),
        Section(
            ("Lumio", "Pricing", "Teams"),
            "EUR 12 a seat a month, billed yearly. See the price list.\n\n"
            "Up to 50 seats\n\nSSO included",
        ),
        Section(("Lumio", "Data residency"), "All data is stored in Frankfurt (EU)."),
    ]
    passages = passages_of(sections)
    assert passages[1].heading == HEADING_SEPARATOR.join(["Lumio", "Pricing", "Teams"])
    assert "EUR 12 a seat" in passages[1].text and "SSO included" in passages[1].text


def test_html_is_read_as_a_browser_shows_it_without_scripts_or_navigation():
    sections = document_sections(HTML, Kind.HTML)
    assert sections == [
        Section(("Lumio",), "Lumio turns spreadsheets into live dashboards."),
        Section(("Lumio", "Support"), "Email, 24 hours a day\n\nSpanish and English"),
    ]
    assert all("secret" not in s.text and "Home" not in s.text for s in sections)


def test_a_pdf_is_read_from_its_text_layer_page_by_page():
    data = _pdf("Lumio keeps your data in Frankfurt.", "Support answers within a day.")
    assert kind_of("handbook", data) is Kind.PDF
    sections = document_sections(data, Kind.PDF)
    assert [s.text for s in sections] == [
        "Lumio keeps your data in Frankfurt.",
        "Support answers within a day.",
    ]


def test_plain_text_keeps_its_paragraphs_in_any_language():
    text = "¿Tienen soporte en español?\n\nSí, de lunes a viernes.\n".encode()
    sections = document_sections(text, kind_of("faq.txt", text))
    assert sections == [Section((), "¿Tienen soporte en español?\n\nSí, de lunes a viernes.")]
    utf16 = "Ünïcode from Notepad".encode("utf-16")
    assert document_sections(utf16, Kind.TEXT)[0].text == "Ünïcode from Notepad"


def test_long_text_is_split_at_paragraphs_then_sentences_never_inside_one():
    sentence = "Lumio connects to your spreadsheets in minutes."  # 7 words
    paragraph = " ".join([sentence] * 6)  # 42 words
    passages = passages_of([Section(("Guide",), "\n\n".join([paragraph] * 3))], words=50)
    assert [len(p.text.split()) for p in passages] == [42, 42, 42]
    passages = passages_of([Section((), paragraph)], words=20)
    assert all(p.text.endswith(".") for p in passages)
    assert [len(p.text.split()) for p in passages] == [14, 14, 14]
    assert all(p.heading == "" for p in passages)
    # A single "sentence" longer than a passage is cut by words.
    run_on = " ".join(["word"] * 45)
    assert [len(p.text.split()) for p in passages_of([Section((), run_on)], words=20)] == [
        20,
        20,
        5,
    ]


@pytest.mark.parametrize(
    ("name", "data", "kind", "says"),
    [
        ("notes.docx", b"PK\x03\x04", None, "name ending in .md, .html, .pdf or .txt"),
        ("latin1.txt", "café".encode("latin-1"), Kind.TEXT, "save it as UTF-8"),
        ("scan.pdf", _pdf(""), Kind.PDF, "no text layer"),
        ("broken.pdf", b"%PDF-1.4\nnot really", Kind.PDF, "not a PDF salesbot can read"),
        ("empty.md", b"# Title only\n", Kind.MARKDOWN, "no text to answer from"),
        ("big.txt", b"a " * (6 * 2**20), Kind.TEXT, "at most 10 MiB"),
    ],
)
def test_what_cannot_be_read_is_refused_with_what_to_do(name, data, kind, says):
    with pytest.raises(DocumentInvalid, match=says) as refused:
        document_sections(data, kind or kind_of(name, data), name=name)
    assert refused.value.code == "invalid_document"
