"""Leads as CSV: the dashboard's export of its filtered list and the admin's of a selection
write the same columns, streamed row by row."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import datetime

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from leads.fields import EXPORT_FACTS
from leads.models import Lead

EXPORT_COLUMNS = [
    "id",
    "site",
    *EXPORT_FACTS,
    "score",
    "status",
    "owner",
    "first_contact",
    "last_contact",
    "qualified_at",
    "created",
]


class _Echo:
    """A file-like object whose write() hands back the line, for streaming csv.writer rows."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value: object) -> object:
    # A cell a spreadsheet would run as a formula (=, +, -, @) is quoted as text (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else value


def csv_rows(leads: QuerySet[Lead]) -> Iterator[Sequence[object]]:
    """The export's header, then one row per lead (with `leads_with_contact_times`' first and
    last contact), read from the database in chunks."""
    yield EXPORT_COLUMNS
    for lead in leads.iterator(chunk_size=500):
        values = {
            "id": lead.id,
            "site": lead.site.key,
            **{name: getattr(lead, name) for name in EXPORT_FACTS},
            "score": lead.score,
            "status": lead.status,
            "owner": lead.owner.get_username() if lead.owner else "",
            "first_contact": lead.first_contact,  # type: ignore[attr-defined]  # annotated
            "last_contact": lead.last_contact,  # type: ignore[attr-defined]  # annotated
            "qualified_at": lead.qualified_at,
            "created": lead.created,
        }
        yield [_csv_cell(values[column]) for column in EXPORT_COLUMNS]


def csv_response(leads: QuerySet[Lead], filename: str) -> StreamingHttpResponse:
    """The leads as a CSV download, written row by row as the client reads it."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in csv_rows(leads)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
