"""Facts in a form the visitor filled in: "Name: Ong Jun Hao", "Company: Acme", "Role: CTO"."""

from __future__ import annotations

import re
from collections.abc import Iterator

from leads.extraction.rules.common import Found
from leads.extraction.rules.names import is_name
from leads.extraction.rules.runs import ABBREVIATED, is_cap, run_at
from leads.extraction.rules.titles import title_word

_LABEL = re.compile(
    r"^\s*[-*•]?\s*(?P<label>name|full name|contact|company|organi[sz]ation|business|role|"
    r"title|job title|position|name des ansprechpartners|nom|nombre|nome|naam|firma|"
    r"unternehmen|société|entreprise|empresa|azienda|bedrijf|funktion|fonction|cargo|"
    r"ruolo|functie)\s*:\s*(?P<value>.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
# What each label of a person or a company fills in; every other label is a job title's.
_LABEL_FIELD = {
    "name": "name",
    "full name": "name",
    "contact": "name",
    "nom": "name",
    "nombre": "name",
    "nome": "name",
    "naam": "name",
    "name des ansprechpartners": "name",
    "company": "company",
    "organization": "company",
    "organisation": "company",
    "business": "company",
    "firma": "company",
    "unternehmen": "company",
    "société": "company",
    "entreprise": "company",
    "empresa": "company",
    "azienda": "company",
    "bedrijf": "company",
}


def labelled(text: str) -> Iterator[Found]:
    """Facts in a form the visitor filled in: "Name: Ong Jun Hao", "Role: IT Manager"."""
    for match in _LABEL.finditer(text):
        label, value = match["label"].casefold(), match["value"].strip()
        if not re.search(
            r"\b(?:[A-Za-z]\.){2,}$|\b(?:" + "|".join(ABBREVIATED) + r")\.$", value, re.IGNORECASE
        ):
            value = value.rstrip(".")  # "Fratelli Rossi S.p.A." keeps its full stop
        field = _LABEL_FIELD.get(label, "job_title")
        start = match.start("value")
        if field == "name":
            run = run_at(text, start, "name")
            if run is not None and is_name(run):
                yield Found("name", run.text, run.start, run.end, 0.9)
        elif field == "company":
            if value and is_cap(value) and len(value.split()) <= 8:
                yield Found("company", value, start, start + len(value), 0.9)
        elif value and len(value.split()) <= 8 and any(title_word(w) for w in value.split()):
            yield Found("job_title", value, start, start + len(value), 0.9)
