"""A Site's documents read into passages: Markdown, HTML, PDF and plain text (pure: no Django).

A document becomes sections (the headings above a stretch of text, and the text), and each
section passages of at most `PASSAGE_WORDS` words, split at paragraphs, then at sentences,
never inside one unless a sentence alone is longer. Each passage keeps its headings, so that
"Pricing › Teams" still says what "€12 a seat a month" is the price of once retrieved alone.

The readers are kept libraries: markdown-it-py (CommonMark), Beautiful Soup (HTML as browsers
parse it), pypdf (a PDF's text layer; a scanned PDF has none and is refused, not guessed at).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath

from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from leads.errors import DocumentInvalid

PASSAGE_WORDS = 120
MAX_BYTES = 10 * 2**20  # a product's documents, not a library
HEADING_SEPARATOR = " › "


class Kind(StrEnum):
    MARKDOWN = "markdown"
    HTML = "html"
    PDF = "pdf"
    TEXT = "text"


_SUFFIXES = {
    ".md": Kind.MARKDOWN,
    ".markdown": Kind.MARKDOWN,
    ".html": Kind.HTML,
    ".htm": Kind.HTML,
    ".pdf": Kind.PDF,
    ".txt": Kind.TEXT,
    ".text": Kind.TEXT,
}


@dataclass(frozen=True)
class Section:
    headings: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Passage:
    heading: str  # the headings above it, joined by HEADING_SEPARATOR ("" at the top)
    text: str


def kind_of(name: str, data: bytes) -> Kind:
    """The kind of the file `name` holding `data`: by its suffix, else by its first bytes."""
    suffix = PurePath(name).suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    head = data[:512].lstrip().lower()
    if head.startswith(b"%pdf-"):
        return Kind.PDF
    if head.startswith((b"<!doctype html", b"<html")):
        return Kind.HTML
    raise DocumentInvalid(
        f"{name!r}: not a kind of document salesbot reads; give it a name ending in "
        ".md, .html, .pdf or .txt"
    )


def document_sections(data: bytes, kind: Kind, *, name: str = "document") -> list[Section]:
    """The sections of a document's bytes; `DocumentInvalid` with what to do when unreadable."""
    if len(data) > MAX_BYTES:
        raise DocumentInvalid(
            f"{name!r} is {len(data) / 2**20:.1f} MiB; documents may be at most "
            f"{MAX_BYTES // 2**20} MiB: split it, or give its text alone"
        )
    if kind is Kind.PDF:
        sections = _pdf_sections(data, name)
    else:
        text = _decoded(data, name)
        if kind is Kind.MARKDOWN:
            sections = _markdown_sections(text)
        elif kind is Kind.HTML:
            sections = _html_sections(text)
        else:
            sections = [Section((), text)]
    sections = [s for s in (Section(s.headings, _tidy(s.text)) for s in sections) if s.text]
    if not sections:
        raise DocumentInvalid(f"{name!r} holds no text to answer from")
    return sections


def passages_of(sections: list[Section], *, words: int = PASSAGE_WORDS) -> list[Passage]:
    """Each section's text in passages of at most `words` words, with its headings."""
    out: list[Passage] = []
    for section in sections:
        heading = HEADING_SEPARATOR.join(section.headings)
        for text in _packed(_pieces(section.text, words), words):
            out.append(Passage(heading, text))
    return out


def _decoded(data: bytes, name: str) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # a byte-order mark: UTF-16 (Windows' Notepad)
        return data.decode("utf-16")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentInvalid(
            f"{name!r} is not UTF-8 text (byte {exc.start}); save it as UTF-8 and upload it again"
        ) from None
    if "\x00" in text:
        raise DocumentInvalid(f"{name!r} holds binary data, not text")
    return text


def _tidy(text: str) -> str:
    """Paragraphs kept (blank lines), the spaces within them collapsed."""
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


class _Outline:
    """Sections as a document's headings and paragraphs come, one after the other: a heading
    closes the text under the one before and stands under the higher ones still open."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self._headings: list[tuple[int, str]] = []
        self._body: list[str] = []

    def heading(self, level: int, text: str) -> None:
        self.close()
        self._headings = [(lv, h) for lv, h in self._headings if lv < level]
        self._headings.append((level, text))

    def paragraph(self, text: str) -> None:
        if text:
            self._body.append(text)

    def close(self) -> list[Section]:
        if self._body:
            headings = tuple(h for _, h in self._headings)
            self.sections.append(Section(headings, "\n\n".join(self._body)))
            self._body = []
        return self.sections


def _markdown_sections(text: str) -> list[Section]:
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    outline = _Outline()
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            outline.heading(int(token.tag[1]), tokens[i + 1].content.strip())
        elif token.type == "inline" and tokens[i - 1].type != "heading_open":
            outline.paragraph(_markdown_inline_text(token.content))
        elif token.type in ("fence", "code_block"):
            outline.paragraph(token.content)
    return outline.close()


def _markdown_inline_text(content: str) -> str:
    """A paragraph's words without Markdown's marks: links keep their text, not the URL."""
    content = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", content)
    return re.sub(r"(\*\*|__|\*|_|`)(.+?)\1", r"\2", content)


_BLOCKS = ("p", "li", "td", "th", "dt", "dd", "pre", "blockquote", "figcaption")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _html_sections(text: str) -> list[Section]:
    soup = BeautifulSoup(text, "html.parser")
    for hidden in soup(["script", "style", "noscript", "template", "nav", "footer", "header"]):
        hidden.decompose()
    outline = _Outline()
    for element in soup.find_all([*_HEADINGS, *_BLOCKS]):
        if element.find_parent(_BLOCKS):
            continue  # read with the block it is in
        # Inline elements split by spaces, then no space left before punctuation.
        words = re.sub(r"\s+([.,;:!?)])", r"\1", element.get_text(" ", strip=True))
        if element.name in _HEADINGS:
            outline.heading(int(element.name[1]), words)
        else:
            outline.paragraph(words)
    sections = outline.close()
    if not sections and soup.get_text(strip=True):  # text in no block at all
        sections.append(Section((), soup.get_text("\n\n", strip=True)))
    return sections


def _pdf_sections(data: bytes, name: str) -> list[Section]:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentInvalid(f"{name!r} is encrypted; upload a copy without a password")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise DocumentInvalid(f"{name!r} is not a PDF salesbot can read: {exc}") from None
    if not any(p.strip() for p in pages):
        raise DocumentInvalid(
            f"{name!r} has no text layer (a scan?); upload the text itself, or the PDF after "
            "text recognition (OCR)"
        )
    # A PDF's lines end where the page's width did: lines joined, blank lines kept.
    return [Section((), re.sub(r"(?<!\n)\n(?!\n)", " ", page)) for page in pages if page.strip()]


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


def _pieces(text: str, words: int) -> list[str]:
    """Paragraphs; a paragraph longer than `words` in sentences; a sentence longer still in
    runs of `words` words."""
    out: list[str] = []
    for paragraph in text.split("\n\n"):
        if len(paragraph.split()) <= words:
            out.append(paragraph)
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            tokens = sentence.split()
            out.extend(" ".join(tokens[i : i + words]) for i in range(0, len(tokens), words))
    return [p for p in out if p.strip()]


def _packed(pieces: list[str], words: int) -> list[str]:
    """Consecutive pieces joined while they stay within `words` words."""
    out: list[str] = []
    count = 0
    for piece in pieces:
        n = len(piece.split())
        if out and count + n <= words:
            out[-1] = f"{out[-1]} {piece}"
            count += n
        else:
            out.append(piece)
            count = n
    return out
