from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from leads.errors import InvalidInput
from leads.management.person import person_arguments
from leads.selectors.people import person_leads
from leads.services.retention import person_erase


class Command(BaseCommand):
    help = (
        "Erase a person's data on every Site (a data subject's request): each lead whose person "
        "gave this email or phone. Cannot be undone; without --yes, only lists the leads."
    )

    def add_arguments(self, parser: Any) -> None:
        person_arguments(parser)
        parser.add_argument("--yes", action="store_true", help="erase, not just list")

    def handle(self, *args: Any, email: str, phone: str, region: str, yes: bool, **_: Any) -> None:
        try:
            leads = list(person_leads(email=email, phone=phone, region=region))
        except InvalidInput as exc:
            raise CommandError(str(exc)) from exc
        for lead in leads:
            state = "erased already" if lead.erased_at else "to erase"
            self.stdout.write(f"lead {lead.id} on {lead.site.key}: {state}")
        if not yes:
            self.stdout.write(f"{len(leads)} lead(s) found; add --yes to erase them")
            return
        erased = person_erase(email=email, phone=phone, region=region, by=None)
        self.stdout.write(f"erased {len(erased)} lead(s)")
