from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from leads.models import ModelCall, Site
from leads.selectors.costs import budget_states, costs_by_month, costs_summary, default_since


class Command(BaseCommand):
    help = (
        "What the models cost, at their prices (config/llm.yaml `price`): per model and month, "
        "per conversation and per qualified lead, and each Site's budgets."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--site", help="one Site's conversations (its key); default: all")
        parser.add_argument(
            "--days", type=int, default=30, help="the period of the per-conversation and "
            "per-lead costs, today included (default 30)",
        )  # fmt: skip

    def handle(self, *args: Any, site: str | None, days: int, **options: Any) -> None:
        if days < 1:
            raise CommandError("--days must be 1 or more")
        sites = Site.objects.all()
        calls = ModelCall.objects.all()
        if site is not None:
            sites = sites.filter(key=site)
            if not sites.exists():
                known = ", ".join(Site.objects.values_list("key", flat=True)) or "(none)"
                raise CommandError(f"no Site with the key {site!r}; known: {known}")
            calls = calls.filter(conversation__site__in=sites)
        currency = settings.LLM_COST_CURRENCY
        out = self.stdout.write
        out(f"Per model and month ({currency})")
        out(
            f"{'month':<9}{'model':<32}{'calls':>8}{'prompt tok':>12}{'output tok':>12}{'cost':>12}"
        )
        months = costs_by_month(calls=calls)
        for row in months:
            out(
                f"{row.month:%Y-%m}  {row.model[:30]:<30}{row.calls:>8}{row.prompt_tokens:>12,}"
                f"{row.completion_tokens:>12,}{row.cost:>12.4f}"
            )
        if not months:
            out("(no model calls on record)")
        summary = costs_summary(sites=sites, since=default_since(days))
        per_conversation, per_lead = summary.per_conversation, summary.per_qualified
        out(f"\nLast {days} days: {summary.total:.4f} {currency} in all")
        out(
            f"  per conversation: {per_conversation:.4f} ({summary.conversations} conversations)"
            if per_conversation is not None else "  per conversation: — (no conversations)"
        )  # fmt: skip
        out(
            f"  per qualified lead: {per_lead:.4f} ({summary.qualified} qualified)"
            if per_lead is not None else "  per qualified lead: — (none qualified)"
        )  # fmt: skip
        budgeted = sites.exclude(budget_daily=None, budget_monthly=None).order_by("key")
        if budgeted:
            out("\nBudgets")
        for each in budgeted:
            for state in budget_states(site=each):
                said = "SPENT" if state.over else "within"
                out(
                    f"  {each.key}: {state.period} {state.spent:.4f} of {state.budget} "
                    f"{currency}: {said}"
                )
