"""What the models cost: per Site and period (for the budgets), per model and month, per
conversation and per qualified lead, from the calls `llm.metrics` reported (`ModelCall.cost`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from leads.models import Lead, ModelCall, Site


@dataclass(frozen=True)
class BudgetState:
    """A Site's budget for a period, and what its conversations' model calls used of it."""

    site: Site
    period: str  # "daily" or "monthly"
    budget: Decimal
    spent: float

    @property
    def over(self) -> bool:
        return self.spent >= float(self.budget)


@dataclass(frozen=True)
class MonthCost:
    month: datetime
    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost: float


def _period_starts(now: datetime) -> dict[str, datetime]:
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return {"daily": today, "monthly": today.replace(day=1)}


def site_spent(*, site: Site, since: datetime) -> float:
    """What `site`'s conversations' model calls cost since `since`."""
    total = ModelCall.objects.filter(conversation__site=site, created__gte=since).aggregate(
        cost=Sum("cost")
    )["cost"]
    return float(total or 0.0)


def budget_states(*, site: Site, now: datetime | None = None) -> list[BudgetState]:
    """`site`'s budgets (daily, monthly) and what is spent of each now."""
    starts = _period_starts(now or timezone.now())
    return [
        BudgetState(site, period, budget, site_spent(site=site, since=starts[period]))
        for period, budget in (("daily", site.budget_daily), ("monthly", site.budget_monthly))
        if budget is not None
    ]


def budgets_spent(*, site: Site, now: datetime | None = None) -> list[BudgetState]:
    """`site`'s budgets that are used up now."""
    return [state for state in budget_states(site=site, now=now) if state.over]


def budgets_spent_of(*, sites: QuerySet[Site]) -> list[BudgetState]:
    """The used-up budgets of `sites` that have one, for the dashboard's warning."""
    budgeted = sites.exclude(budget_daily=None, budget_monthly=None)
    return [spent for site in budgeted for spent in budgets_spent(site=site)]


def costs_by_month(*, calls: QuerySet[ModelCall]) -> list[MonthCost]:
    """`calls` per calendar month and model, newest month first."""
    rows = (
        calls.annotate(month=TruncMonth("created"))
        .values("month", "model")
        .annotate(
            n=Count("id"),
            prompt=Sum("prompt_tokens"),
            completion=Sum("completion_tokens"),
            cost=Sum("cost"),
        )
        .order_by("-month", "model")
    )
    return [
        MonthCost(r["month"], r["model"], r["n"], r["prompt"] or 0, r["completion"] or 0,
                  float(r["cost"] or 0.0))
        for r in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class CostSummary:
    total: float
    conversations: int  # with at least one model call
    qualified: int

    @property
    def per_conversation(self) -> float | None:
        return self.total / self.conversations if self.conversations else None

    @property
    def per_qualified(self) -> float | None:
        return self.total / self.qualified if self.qualified else None


def costs_summary(*, sites: QuerySet[Site], since: datetime) -> CostSummary:
    """What `sites`' conversations' model calls cost since `since`, per conversation and per
    lead qualified in that time."""
    calls = ModelCall.objects.filter(conversation__site__in=sites, created__gte=since)
    totals = calls.aggregate(cost=Sum("cost"), conversations=Count("conversation", distinct=True))
    qualified = Lead.objects.filter(site__in=sites, qualified_at__gte=since).count()
    return CostSummary(float(totals["cost"] or 0.0), totals["conversations"], qualified)


def default_since(days: int) -> datetime:
    """The start of the last `days` days, today included, in the local time zone."""
    return _period_starts(timezone.now())["daily"] - timedelta(days=days - 1)
