"""Budget: an amount and its currency, where the visitor says what they would spend."""

from __future__ import annotations

import re
from collections.abc import Iterator

from babel.numbers import get_territory_currencies

from leads.extraction.numbers import MULTIPLIER, amount_value
from leads.extraction.rules.common import Found, is_correction

_PREFIX_CURRENCY = {
    "a$": "AUD",
    "au$": "AUD",
    "c$": "CAD",
    "ca$": "CAD",
    "nz$": "NZD",
    "s$": "SGD",
    "us$": "USD",
    "₱": "PHP",
    "₩": "KRW",
    "₺": "TRY",
    "zł": "PLN",
    "r": "ZAR",
    "r$": "BRL",
    "mx$": "MXN",
    "hk$": "HKD",
    "£": "GBP",
    "€": "EUR",
    "¥": "JPY",
    "₹": "INR",
    "rs": "INR",
    "rs.": "INR",
    "chf": "CHF",
    "fr.": "CHF",
}
_WORD_CURRENCY = {
    "euro": "EUR",
    "euros": "EUR",
    "eur": "EUR",
    "pounds": "GBP",
    "pound": "GBP",
    "quid": "GBP",
    "reais": "BRL",
    "real": "BRL",
    "rupees": "INR",
    "rupee": "INR",
    "francs": "CHF",
    "yen": "JPY",
    "pesos": "MXN",
    "dollars": "$",
    "dollar": "$",
    "bucks": "$",
}
_CODES = [
    "USD",
    "EUR",
    "GBP",
    "CAD",
    "AUD",
    "NZD",
    "SGD",
    "HKD",
    "MXN",
    "BRL",
    "INR",
    "JPY",
    "CHF",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CZK",
    "ZAR",
    "AED",
    "CNY",
    "ARS",
    "CLP",
    "COP",
    "PEN",
    "ILS",
    "TRY",
    "KRW",
]
# Currencies whose own symbol is "$": a bare "$" means the site's region's one.
_DOLLAR_CURRENCIES = {"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "ARS", "CLP", "COP"}
_PREFIX = (
    r"(?:"
    + "|".join(sorted(map(re.escape, _PREFIX_CURRENCY), key=len, reverse=True))
    + r"|\$|"
    + "|".join(_CODES)
    + r")"
)
_SUFFIX = (
    r"(?:€|£|\$|"
    + "|".join(_CODES)
    + "|"
    + "|".join(sorted(_WORD_CURRENCY, key=len, reverse=True))
    + r")(?!\w)"
)
_NUMBER = (
    r"\d{1,2}(?:,\d{2})+,\d{3}"  # Indian grouping: 3,50,000
    r"|\d{1,3}(?:[,.  ']\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
)
_MONEY = re.compile(
    rf"(?:(?<![^\W\d_])(?P<prefix>{_PREFIX}))?\s?(?P<number>{_NUMBER})\s?(?P<mult>{MULTIPLIER})?"
    rf"(?:\s?(?P<suffix>{_SUFFIX}))?",
    re.IGNORECASE,
)
_BUDGET_WORDS = re.compile(
    r"budget|spend|set aside|allocated|approved|sanctioned|capped|cap\b|afford|up to|max|"
    r"invest|pay|presupuesto|orçamento|orcamento|budget|etat|enveloppe|ausgeben|spesa|"
    r"begroting|gastar|investir|investimento|eingeplant|geplant|planned|earmarked|tops|"
    r"we have|we've got|we got|temos|tenemos|contamos|abbiamo|wir haben|nous avons|we hebben",
    re.IGNORECASE,
)
_RANGE_WORD = r"(?:-|–|to|and|or|e|y|o|ou|oder|und|et|bis|à|a|tot|en)"
# Money that is not what they would spend: a bill, a price, an offer, a salary.
_NOT_BUDGET = re.compile(
    r"charged|invoice|refund|paid|bill(?:ed|ing)?|costs?|price|pricing|fee|salary|revenue|"
    r"turnover|raised|order|only \$|off\b|discount|offer|deal|guarantee|rechnung|facture|"
    r"factura|fatura|fattura|factuur|preis|prix|precio|preço|prezzo|prijs|"
    r"\binto\b|earn|earning|legit|profit|prize|crypto|guaranteed|returns",
    re.IGNORECASE,
)
_RANGE = re.compile(
    r"(?:between|from|entre|zwischen|entre|tra|tussen)\s*$"
    rf"|^\s*{_RANGE_WORD}\s+(?:[^\s\d]{{0,3}}\s?)?\d"
    rf"|(?:\d|\d{MULTIPLIER}|\b{MULTIPLIER})\s*{_RANGE_WORD}\s*(?:[^\s\d]{{0,3}}\s?)?$",
    re.IGNORECASE,
)
_MONTHLY = re.compile(
    r"^\W*(?:(?:per|a|an|each|every|/)\s*(?:month|mo)\b|monthly|/\s*mo|pro monat|par mois|"
    r"por mes|por mês|al mese|per maand|mensuel)",
    re.IGNORECASE,
)


def region_currency(region: str) -> str | None:
    """The currency of `region` (a country code): what a bare "$" or amount means there."""
    currencies = get_territory_currencies(region.upper(), tender=True) if region else []
    return currencies[0] if currencies else None


def budget(text: str, *, region: str, asked_budget: bool, before_text: str) -> Iterator[Found]:
    """The budget amount and its currency; a range or a monthly figure gives the currency only."""
    budget_said = asked_budget or bool(_BUDGET_WORDS.search(text))
    for match in _MONEY.finditer(text):
        prefix, suffix, mult = match["prefix"], match["suffix"], match["mult"]
        if not (prefix or suffix or mult):
            continue
        # An amount with a currency is a budget unless it is a bill or a price; a bare
        # "40 grand" only where budget is the subject.
        if not (prefix or suffix) and not budget_said:
            continue
        if _NOT_BUDGET.search(text) and not _BUDGET_WORDS.search(text):
            continue
        if mult and mult.casefold().rstrip(".") == "m" and not (prefix or suffix):
            continue  # "5 m" is as likely metres
        currency = _currency(prefix, suffix, region)
        before, after = text[: match.start()], text[match.end() :]
        correction = is_correction(before_text + before)
        if currency:
            yield Found("budget_currency", currency, match.start(), match.end(), 0.85, correction)
        if _RANGE.search(before) or _RANGE.search(after) or _MONTHLY.search(after):
            continue
        if re.match(r"\s*%", after) or (
            not (prefix or suffix) and re.match(r"\s*(?:seats?|users?|people)", after, re.I)
        ):
            continue
        value = amount_value(match["number"], mult)
        if value is not None and value >= 100:
            yield Found("budget_amount", value, match.start(), match.end(), 0.85, correction)


def _currency(prefix: str | None, suffix: str | None, region: str) -> str | None:
    for part in (suffix, prefix):  # "$250,000 MXN": the code says more than the sign
        if not part:
            continue
        key = part.casefold()
        if part.upper() in _CODES:
            return part.upper()
        code = _PREFIX_CURRENCY.get(key) or _WORD_CURRENCY.get(key)
        if code and code != "$":
            return code
        if key == "$" or code == "$":
            local = region_currency(region)
            return local if local in _DOLLAR_CURRENCIES else "USD"
    return None


def asked_for_budget(question: str) -> bool:
    """Whether the assistant's question asks about budget."""
    return bool(
        re.search(
            r"budget|spend|price range|orçamento|presupuesto|budget|spesa|begroting",
            question,
            re.IGNORECASE,
        )
    )
