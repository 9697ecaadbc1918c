from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from leads.errors import InvalidInput
from leads.management.person import person_arguments
from leads.selectors.people import person_export, person_leads


class Command(BaseCommand):
    help = (
        "Write, as JSON, everything salesbot holds about a person on every Site (a data "
        "subject's access request): their leads' facts, evidence, transcripts and history."
    )

    def add_arguments(self, parser: Any) -> None:
        person_arguments(parser)
        parser.add_argument("--out", default="-", help="a file to write (default: stdout)")

    def handle(self, *args: Any, email: str, phone: str, region: str, out: str, **_: Any) -> None:
        try:
            export = person_export(leads=person_leads(email=email, phone=phone, region=region))
        except InvalidInput as exc:
            raise CommandError(str(exc)) from exc
        text = json.dumps(export, indent=2, ensure_ascii=False)
        if out == "-":
            self.stdout.write(text)
        else:
            with open(out, "w", encoding="utf-8") as file:
                file.write(text + "\n")
            self.stderr.write(f"wrote {len(export['leads'])} lead(s) to {out}")
