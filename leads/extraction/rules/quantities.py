"""Seats, budget and timeline: numbers that mean something because of the words around them."""

from __future__ import annotations

import re
from collections.abc import Iterator

from babel.numbers import get_territory_currencies

from leads.extraction.numbers import COUNT, MULTIPLIER, amount_value, count_value
from leads.extraction.rules.common import is_correction, is_hedged
from leads.extraction.rules.people import Found

# Nouns that count seats whatever the sentence says ...
SEAT_NOUNS = (
    r"seats?|users?|user licen[cs]es?|licen[cs]es?|logins?|accounts?|"
    r"utilisateurs?|licences?|postes?|nutzer(?:innen)?|benutzer|lizenzen|arbeitsplätze|"
    r"licenças|usuários|utilizadores|usuarios|licencias|utenti|licenze|postazioni|"
    r"gebruikers|licenties|werkplekken|accès|accesos|acessos|zugänge|toegangen|accessi"
)
# ... and nouns that count people, who are seats only if the sentence says they will use it:
# "for 60 employees", "40 staff, they'd all need the app", not "we have 15 employees".
PEOPLE_NOUNS = (
    r"agents?|reps?|testers?|engineers?|developers?|employees?|staff|people|persons?|members?|"
    r"technicians?|techs?|practitioners?|operators?|recruiters?|teachers?|nurses?|sellers?|"
    r"salespeople|colleagues|personnes|collaborateurs?|salariés|employés|agents|"
    r"mitarbeiter(?:innen)?|leute|personen|kollegen|kolleg:innen|pessoas|colaboradores|"
    r"funcionários|agentes|personas|empleados|colaboradores|persone|dipendenti|"
    r"collaboratori|agenti|medewerkers|mensen|collega's"
)
_USE = re.compile(
    r"\b(?:need|needs|needed|use|using|access|log ?in|logins?|seats?|licen[cs]e|would all|"
    r"will all|necesit|precis|acceso|acesso|brauch|zugang|nutzen|accès|utiliser|usar|"
    r"utilizar|usare|accesso|gebruik|toegang|werken|arbeiten|travailler|trabajar|lavorare|"
    r"trabalhar|work with|work on it)",
    re.IGNORECASE,
)
_FOR = re.compile(r"\b(?:for|für|pour|para|per|voor)\s+(?:all\s+|the\s+)?$", re.IGNORECASE)
_GAP = r"(?:\s+(?:[^\W\d]+\s+){0,2}?|-)"
_SEATS = re.compile(rf"(?<![\w$€£¥₹.,-])(?P<n>{COUNT}){_GAP}(?:{SEAT_NOUNS})\b", re.IGNORECASE)
_PEOPLE = re.compile(rf"(?<![\w$€£¥₹.,-])(?P<n>{COUNT}){_GAP}(?:{PEOPLE_NOUNS})\b", re.IGNORECASE)
# "only 12 need access", "5 of us need it", "solo 12 necesitan acceso".
_ONLY = re.compile(
    rf"(?:\b(?:only|just|solo|sólo|só|nur|seulement|solo|alleen)\s+)?(?P<n>{COUNT})"
    r"(?:\s+(?:of us|of them|de nosotros|von uns|d'entre nous|van ons|di noi|de nós))?"
    r"(?:\s+[^\W\d]+){0,3}?\s+(?:need|needs|will use|would use|use|necesitan|precisam|"
    r"brauchen|benötigen|ont besoin|utiliseront|usarán|useranno|hebben nodig)\b",
    re.IGNORECASE,
)
_TOTAL = re.compile(
    rf"\b(?:so|that's|thats|that is|makes?|=)\s+(?P<n>{COUNT})\s+"
    rf"(?:(?:\w+\s+)?(?:{SEAT_NOUNS}|{PEOPLE_NOUNS})\s+)?"
    r"(?:in total|total|all up|altogether|overall)|(?P<m>\d+)\s+(?:in total|total)\b"
    rf"|\bso\s+(?P<k>{COUNT})\s+(?:{SEAT_NOUNS})\b",
    re.IGNORECASE,
)
_NOT_SEATS_BEFORE = re.compile(
    r"\b(?:hiring|hire|adding|add|plus|another|extra|more|additional|last|past|with)\s+$"
    r"|\bof\s+$|-$",
    re.IGNORECASE,
)
_CORRECTED_COUNT = re.compile(
    r"\b(?:actually|make (?:it|that)|correction|sorry|i mean|rather|wait|no wait|scratch that|"
    r"corrected)\b[^.!?\d]{0,40}?"
    rf"(?<![\w$€£])(?P<n>{COUNT})\b(?!\s*(?:k\b|%|[$€£]))",
    re.IGNORECASE,
)
_HOW_MANY = re.compile(
    r"how many|how big|what size|how large|number of (?:users|seats|people)|"
    r"wie viele|combien|cu[aá]nt[oa]s|quant[oa]s|quanti|hoeveel|all (?:\w+ )?of you",
    re.IGNORECASE,
)
_BARE_COUNT = re.compile(
    rf"(?<![\w$€£¥₹.,-])(?P<n>{COUNT})(?![\w%$€£-]|[.,]\d|\s*(?:{MULTIPLIER}))",
    re.IGNORECASE,
)

# Words before "one" that make it a pronoun ("this one", "the new one"), not a number.
_PRONOUN_ONE = re.compile(
    r"\b(?:this|that|the|which|each|every|any|no|another|same|other|a|an|new|right|big|"
    r"good|next|last|first|current|old)\s+$",
    re.IGNORECASE,
)


def seats(text: str, *, asked_count: bool, before_text: str) -> Iterator[Found]:
    """How many people would use the product."""
    found = bool(_SEATS.search(before_text))  # a correction may come a sentence later

    def candidate(match: re.Match[str], group: str, confidence: float) -> Found | None:
        before = text[: match.start(group)]
        value = count_value(match[group])
        if not value or value >= 1_000_000 or _NOT_SEATS_BEFORE.search(before):
            return None
        if is_hedged(before, text[match.end(group) :]) or is_hedged("", text[match.end() :]):
            return None
        if re.match(r"\d+-\w", match.group()):
            return None  # "a 6-person startup" is the company's size
        return Found(
            "seats",
            value,
            match.start(),
            match.end(),
            confidence,
            is_correction(before_text + before),
        )

    results: list[Found | None] = []
    for match in _TOTAL.finditer(text):
        group = "n" if match["n"] else "m" if match["m"] else "k"
        results.append(candidate(match, group, 0.9))
    for match in _ONLY.finditer(text):
        results.append(candidate(match, "n", 0.9))
    for match in _SEATS.finditer(text):
        results.append(candidate(match, "n", 0.85))
    for match in _PEOPLE.finditer(text):
        if _USE.search(text) or _FOR.search(text[: match.start()]):
            results.append(candidate(match, "n", 0.75))
    for item in results:
        if item is not None:
            found = True
            yield item
    for match in _CORRECTED_COUNT.finditer(text):
        value = count_value(match["n"])
        if found and value:
            yield Found("seats", value, match.start(), match.end(), 0.95, True)
    if not found and asked_count and not before_text.strip() and len(text.split()) <= 8:
        # A short answer to "how many?": "Yep, all 6."
        for match in _BARE_COUNT.finditer(text):
            if _PRONOUN_ONE.search(text[: match.start()]) and match["n"].casefold() == "one":
                continue  # "like this one" points at a thing, it counts nobody
            item = candidate(match, "n", 0.7)
            near = text[max(0, match.start() - 2) : match.end() + 2]
            if item is not None and not re.search(r"[$€£¥₹]", near):
                yield item
                break


def asked_for_count(question: str) -> bool:
    return bool(_HOW_MANY.search(question))


# --- budget -------------------------------------------------------------------------------

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
    return bool(
        re.search(
            r"budget|spend|price range|orçamento|presupuesto|budget|spesa|begroting",
            question,
            re.IGNORECASE,
        )
    )


# --- timeline -----------------------------------------------------------------------------

_NOW = re.compile(
    r"\b(?:asap|as soon as (?:\w+ )?possible|immediately|right away|right now|straight away|today|"
    r"in a fortnight|within a fortnight|a fortnight|"
    r"tomorrow|this week|next week|within this month|this month|in (?:a|one|two|2|1) weeks?|"
    r"within (?:a|one|two|2|1) weeks?|so schnell wie möglich|sofort|umgehend|diese woche|"
    r"dès que possible|le plus vite possible|au plus vite|immédiatement|cette semaine|"
    r"lo antes posible|cuanto antes|de inmediato|esta semana|o quanto antes|"
    r"o mais rápido possível|imediatamente|esta semana|il prima possibile|subito|"
    r"questa settimana|zo snel mogelijk|meteen|deze week)\b",
    re.IGNORECASE,
)
_UNITS = {
    "day": 1 / 30,
    "days": 1 / 30,
    "tag": 1 / 30,
    "tage": 1 / 30,
    "tagen": 1 / 30,
    "jour": 1 / 30,
    "jours": 1 / 30,
    "día": 1 / 30,
    "días": 1 / 30,
    "dia": 1 / 30,
    "dias": 1 / 30,
    "giorni": 1 / 30,
    "dagen": 1 / 30,
    "week": 7 / 30,
    "weeks": 7 / 30,
    "woche": 7 / 30,
    "wochen": 7 / 30,
    "semaine": 7 / 30,
    "semaines": 7 / 30,
    "semana": 7 / 30,
    "semanas": 7 / 30,
    "settimana": 7 / 30,
    "settimane": 7 / 30,
    "weken": 7 / 30,
    "month": 1,
    "months": 1,
    "monat": 1,
    "monate": 1,
    "monaten": 1,
    "mois": 1,
    "mes": 1,
    "meses": 1,
    "mese": 1,
    "mesi": 1,
    "maand": 1,
    "maanden": 1,
    "quarter": 3,
    "quarters": 3,
    "quartal": 3,
    "trimestre": 3,
    "trimestres": 3,
    "kwartaal": 3,
    "year": 12,
    "years": 12,
    "jahr": 12,
    "jahre": 12,
    "jahren": 12,
    "an": 12,
    "ans": 12,
    "año": 12,
    "años": 12,
    "ano": 12,
    "anos": 12,
    "anno": 12,
    "anni": 12,
    "jaar": 12,
}
_UNIT = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
_WITHIN = (
    r"in|within|inside|over|next|in the next|within the next|in about|"
    r"dans|dans les|d'ici|en|en los|en las|em|nos|nas|dentro de|entro|tra|fra|innerhalb|"
    r"in den nächsten|binnen|over"
)
_DURATION = re.compile(
    rf"\b(?:{_WITHIN})\s+(?:the\s+|der\s+|den\s+|les\s+|los\s+|las\s+|os\s+|as\s+)?"
    r"(?:next\s+|nächsten\s+|prochains\s+|próximos\s+|prossimi\s+|komende\s+)?"
    rf"(?P<n>{COUNT}|an?|one|un|une|um|uma|uno|una|einem|einen|een)\s+"
    r"(?:(?:next|prochains|prochaines|próximos|próximas|nächsten|prossimi|volgende)\s+)?"
    rf"(?P<unit>{_UNIT})\b",
    re.IGNORECASE,
)
_NEXT = re.compile(
    r"\b(?:next|the next|le prochain|la prochaine|dans le prochain|au prochain|"
    r"el próximo|el proximo|la próxima|no próximo|na próxima|o próximo|nächstes|nächsten|"
    r"im nächsten|il prossimo|nel prossimo|volgend|volgende|het volgende)\s+"
    r"(?P<unit>month|quarter|mois|trimestre|mes|mês|monat|quartal|mese|maand|kwartaal)\b"
    r"|\b(?P<unit2>month|quarter|mois|trimestre)\s+(?:prochain|prochaine|que vem|próximo)\b",
    re.IGNORECASE,
)
_TIMING_CONTEXT = re.compile(
    r"start|roll ?out|go live|live|launch|switch|sign|buy|purchas|decid|decision|kick ?off|"
    r"sorted|ready|in place|running|set up|have it|get it|wäre ideal|ideal|"
    r"up and running|get going|implement|deploy|onboard|begin|move|migrat|contract|need it|"
    r"starten|beginnen|einführen|démarrer|commencer|lancer|fechar|contratar|começar|"
    r"empezar|comenzar|arrancar|iniziare|partire|beginnen|overstappen|kaufen|acheter|comprar",
    re.IGNORECASE,
)
_WHEN = re.compile(
    r"\bwhen\b|timeline|time ?frame|timing|how soon|bis wann|wann|zeitrahmen|zeitplan|"
    r"quand|calendrier|délai|échéancier|échéance|horizon|"
    r"cuándo|cuando|plazo|quando|prazo|entro quando|wanneer|termijn",
    re.IGNORECASE,
)


def timeline(text: str, *, asked_when: bool, before_text: str) -> Iterator[Found]:
    """Months until they want to start: "next quarter" 3, "within 30 days" 1, "asap" 0.

    Dates ("by the end of the year", "in January", "Q3") are left to people: their distance
    depends on a calendar the conversation does not state.
    """
    if not (asked_when or _TIMING_CONTEXT.search(text)):
        return
    for match in _DURATION.finditer(text):
        n = count_value(match["n"])
        if n is None:
            continue
        months = n * _UNITS[match["unit"].casefold()]
        yield _timeline(text, match, int(months + 0.5 - 1e-9), before_text)
    for match in _NEXT.finditer(text):
        unit = (match["unit"] or match["unit2"]).casefold()
        yield _timeline(
            text,
            match,
            3 if unit in ("quarter", "trimestre", "quartal", "kwartaal") else 1,
            before_text,
        )
    for match in _NOW.finditer(text):
        yield _timeline(text, match, 0, before_text)


def _timeline(text: str, match: re.Match[str], months: int, before_text: str) -> Found:
    return Found(
        "timeline_months",
        months,
        match.start(),
        match.end(),
        0.8,
        is_correction(before_text + text[: match.start()]),
    )


def asked_for_timeline(question: str) -> bool:
    return bool(_WHEN.search(question))


_SEAT_LABEL = re.compile(
    rf"^\s*[-*•]?\s*(?:seats|users|licen[cs]es|logins|nutzer|lizenzen|utilisateurs|licences|"
    rf"usuarios|licencias|usuários|licenças|utenti|licenze|gebruikers)\s*:\s*(?P<n>{COUNT})\s*$",
    re.IGNORECASE | re.MULTILINE,
)


def labelled_seats(text: str) -> Iterator[Found]:
    """A form's "Seats: 48"."""
    for match in _SEAT_LABEL.finditer(text):
        value = count_value(match["n"])
        if value:
            yield Found("seats", value, match.start("n"), match.end("n"), 0.9)
