"""The facts panel of a lead's page: each topic's value as staff read it, with the evidence
behind it, one line per quote."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from leads.dashboard.selectors.leads import lead_evidence
from leads.fields import TOPICS
from leads.models import Evidence, Lead


def lead_fact_rows(lead: Lead) -> list[dict[str, Any]]:
    """One row per topic, in the field table's order: its edit key, label, value and evidence."""
    evidence = lead_evidence(lead=lead)
    rows = []
    for topic in TOPICS:
        names = topic.facts
        values = [getattr(lead, n) for n in names]
        shown = " ".join(_shown(v) for v in values if v not in (None, ""))
        if names == ("is_decision_maker",) and lead.is_decision_maker is not None:
            shown = "Yes" if lead.is_decision_maker else "No"
        rows.append(
            {
                "fact": topic.edit_key,
                "label": topic.label,
                "value": shown,
                "evidence": _one_per_quote([e for e in evidence if e.field in names]),
            }
        )
    return rows


def _one_per_quote(evidence: list[Evidence]) -> list[Evidence]:
    """A quote behind several fields of one fact ("$20,000": amount and currency) shows once."""
    seen, kept = set(), []
    for e in evidence:
        made = e.created.replace(microsecond=0) if e.extractor == Evidence.Extractor.STAFF else None
        state = (e.current, e.superseded_by_id is not None, e.conflict)
        key = (e.message_id, e.extractor, e.quote, e.author_id, made, state)
        if key not in seen:
            seen.add(key)
            kept.append(e)
    return kept


def _shown(value: object) -> str:
    if isinstance(value, Decimal):  # a budget: 20,000 or 1,250.50
        return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    return str(value)
