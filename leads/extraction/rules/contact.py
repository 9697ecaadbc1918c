"""Email addresses (also written "jane at acme dot com") and phone numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from leads.extraction.rules.common import about_someone_else, is_correction
from leads.extraction.text import Span

_AT_WORD = r"at|arroba|ät|chez|bei"
_DOT_WORD = r"dot|punto|punkt|point|ponto|punt"
_AT = rf"\s*@\s*|\s*[\[({{<]\s*(?:{_AT_WORD})\s*[\])}}>]\s*|\s+(?:{_AT_WORD})\s+"
_DOT = rf"\.|\s*[\[({{<]\s*(?:{_DOT_WORD})\s*[\])}}>]\s*|\s+(?:{_DOT_WORD})\s+"
EMAIL = re.compile(
    rf"(?P<local>[\w+-](?:[\w.+-]*\w)?(?:(?:\s*[\[(]\s*(?:{_DOT_WORD})\s*[\])]\s*|"
    rf"\s+(?:{_DOT_WORD})\s+)[\w+-]+)*)(?P<at>{_AT})(?P<domain>[\w-]+(?:(?:{_DOT})[\w-]+)+)"
    r"(?![\w@-])",
    re.IGNORECASE,
)
_PRONOUNS = frozenset(
    ["me", "him", "her", "them", "us", "you", "someone", "anyone", "home", "work", "office"]
)
DOT_RE = re.compile(_DOT, re.IGNORECASE)


def emails(sentence: Span, before_text: str) -> Iterator[tuple[str, int, int, bool]]:
    """(address, start, end, correction) for each address in a sentence the visitor owns."""
    for match in EMAIL.finditer(sentence.text):
        local, at, domain = match["local"], match["at"], match["domain"]
        obfuscated_at = "@" not in at
        plain_dots = all(sep == "." for sep in DOT_RE.findall(domain))
        # "Manager at Acme.io" is a job, not an address: a spelled-out "at" with real dots
        # needs an address-like local part.
        if obfuscated_at and plain_dots and not re.search(r"[._\d-]|^[a-z]+$", local):
            continue
        if obfuscated_at and local.casefold() in _PRONOUNS:
            continue  # "send it to him at jonathan@…"
        address = f"{DOT_RE.sub('.', local)}@{DOT_RE.sub('.', domain)}"
        try:
            address = validate_email(address, check_deliverability=False).normalized
        except EmailNotValidError:
            continue
        before = sentence.text[: match.start()]
        if about_someone_else(before):
            continue
        yield address.casefold(), match.start(), match.end(), is_correction(before_text + before)


def phones(sentence: Span, region: str, before_text: str) -> Iterator[tuple[str, int, int, bool]]:
    """(E.164 number, start, end, correction) for each valid number the visitor owns."""
    matcher = phonenumbers.PhoneNumberMatcher(
        sentence.text, region or "US", leniency=phonenumbers.Leniency.VALID
    )
    for match in matcher:
        before = sentence.text[: match.start]
        if about_someone_else(before):
            continue
        number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        yield number, match.start, match.end, is_correction(before_text + before)
