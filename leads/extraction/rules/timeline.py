"""Timeline: the months until the visitor wants to start ("next quarter", "within 30 days")."""

from __future__ import annotations

import re
from collections.abc import Iterator

from leads.extraction import wordlists
from leads.extraction.numbers import COUNT, count_value
from leads.extraction.rules.common import Found, is_correction

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
# Months in each unit a word names: "in 3 Wochen" is three weeks, 0.7 of a month.
_MONTHS = {"day": 1 / 30, "week": 7 / 30, "month": 1, "quarter": 3, "year": 12}
_UNITS = {word: _MONTHS[unit] for word, unit in wordlists.mapping("time_units").items()}
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
    """Whether the assistant's question asks when they want to start."""
    return bool(_WHEN.search(question))
