"""The numbers on the metrics page: leads per day, the funnel, qualification by site, and how
fast and how dear the model's replies are."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from leads.models import Conversation, Lead, Message
from leads.selectors.access import sites_visible
from leads.selectors.costs import CostSummary, costs_summary, default_since

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class SiteRate:
    name: str
    conversations: int
    qualified: int

    @property
    def rate(self) -> float | None:
        return self.qualified / self.conversations if self.conversations else None


@dataclass(frozen=True)
class Metrics:
    """One period's numbers for the sites a rep sees."""

    start: date
    end: date
    leads_per_day: list[tuple[date, int]]
    conversations: int
    engaged: int
    qualified: int
    sites: list[SiteRate]
    first_token_ms: list[int]  # one per reply, for the histogram
    first_token_median_ms: float | None
    first_token_p95_ms: float | None
    tokens_per_second: float | None
    replies: int
    costs: CostSummary  # the model calls' costs at the models' prices
    cost_currency: str


def percentile(values: list[int], q: float) -> float | None:
    """The q-th quantile (0 to 1) of `values`, interpolated like numpy's default; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def metrics_compute(*, user: User, days: int, site_id: int | None = None) -> Metrics:
    """The metrics of the last `days` days (today included) over the sites `user` sees."""
    end = timezone.localdate()
    start = end - timedelta(days=days - 1)
    sites = sites_visible(user=user)
    if site_id is not None:
        sites = sites.filter(id=site_id)
    # A conversation counts once the visitor has written: an opened widget is not a conversation.
    conversations = Conversation.objects.filter(
        site__in=sites, created__date__gte=start, messages__role=Message.Role.VISITOR
    ).distinct()
    leads = Lead.objects.filter(site__in=sites, created__date__gte=start)
    per_day = dict(
        leads.annotate(day=TruncDate("created"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    engaged = leads.filter(
        Q(status__in=[Lead.Status.ENGAGED, Lead.Status.QUALIFIED]) | Q(qualified_at__isnull=False)
    ).count()
    qualified = leads.filter(qualified_at__isnull=False).count()
    by_site = dict(
        conversations.values("site_id")
        .annotate(n=Count("id", distinct=True))
        .values_list("site_id", "n")
    )
    qualified_by_site = dict(
        leads.filter(qualified_at__isnull=False)
        .values("site_id")
        .annotate(n=Count("id"))
        .values_list("site_id", "n")
    )
    replies = Message.objects.filter(
        conversation__site__in=sites,
        created__date__gte=start,
        role=Message.Role.ASSISTANT,
        status=Message.Status.COMPLETE,
        generation_ms__isnull=False,
    )
    waits = [
        ms
        for ms in replies.exclude(first_token_ms=None).values_list("first_token_ms", flat=True)
        if ms is not None
    ]
    totals = replies.aggregate(
        n=Count("id"), tokens=Sum("completion_tokens"), ms=Sum("generation_ms")
    )
    tokens, ms = totals["tokens"] or 0, totals["ms"] or 0
    return Metrics(
        start=start,
        end=end,
        leads_per_day=[
            (day, per_day.get(day, 0)) for day in (start + timedelta(n) for n in range(days))
        ],
        conversations=conversations.count(),
        engaged=engaged,
        qualified=qualified,
        sites=sorted(
            (
                SiteRate(site.name, by_site.get(site.id, 0), qualified_by_site.get(site.id, 0))
                for site in sites.order_by("name")
            ),
            key=lambda r: (-(r.rate or 0), r.name),
        ),
        first_token_ms=waits,
        first_token_median_ms=statistics.median(waits) if waits else None,
        first_token_p95_ms=percentile(waits, 0.95),
        tokens_per_second=tokens / (ms / 1000) if tokens and ms else None,
        replies=totals["n"],
        costs=costs_summary(sites=sites, since=default_since(days)),
        cost_currency=settings.LLM_COST_CURRENCY,
    )
