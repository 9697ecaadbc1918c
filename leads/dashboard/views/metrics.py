"""The dashboard's metrics page: numbers and server-drawn charts for the sites a rep sees."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from leads.dashboard import charts
from leads.dashboard.auth import StaffRequest, staff_required
from leads.dashboard.selectors.metrics import metrics_compute
from leads.dashboard.selectors.model_calls import model_calls_compute
from leads.selectors.access import sites_visible
from leads.selectors.costs import budgets_spent_of

PERIODS = (7, 30, 90)


@require_GET
@staff_required
def metrics(request: StaffRequest) -> HttpResponse:
    asked = request.GET.get("days", "")
    days = int(asked) if asked in {str(p) for p in PERIODS} else 30
    sites = sites_visible(user=request.user).order_by("name")
    site_id = request.GET.get("site", "")
    site = sites.filter(id=int(site_id)).first() if site_id.isdigit() else None
    m = metrics_compute(user=request.user, days=days, site_id=site.id if site else None)
    calls = model_calls_compute(sites=sites.filter(id=site.id) if site else sites, start=m.start)
    per_day = charts.column_chart(
        [(f"{day:%b %d}", count) for day, count in m.leads_per_day],
        title="New leads per day",
        label_every=max(1, days // 7),
    )
    top = max(m.conversations, 1)
    funnel = charts.bar_chart(
        [
            ("Conversations", m.conversations, f"{m.conversations:,}"),
            ("Engaged", m.engaged, f"{m.engaged:,} ({m.engaged / top:.0%})"),
            ("Qualified", m.qualified, f"{m.qualified:,} ({m.qualified / top:.0%})"),
        ],
        title="Funnel",
        maximum=top,
    )
    by_site = charts.bar_chart(
        [
            (
                s.name,
                (s.rate or 0) * 100,
                f"{s.rate:.0%} of {s.conversations:,}" if s.rate is not None else "no chats",
            )
            for s in m.sites
        ],
        title="Qualification rate per site",
        maximum=100,
    )
    waits = [ms / 1000 for ms in m.first_token_ms]
    markers = []
    if m.first_token_median_ms is not None and m.first_token_p95_ms is not None:
        markers = [
            (m.first_token_median_ms / 1000, "median"),
            (m.first_token_p95_ms / 1000, "p95"),
        ]
    latency = charts.histogram(
        waits, bins=20, title="Seconds to the first reply token", markers=markers
    )
    context = {
        "m": m,
        "days": days,
        "periods": PERIODS,
        "sites": sites,
        "site": site,
        "per_day": per_day,
        "funnel": funnel,
        "by_site": by_site,
        "latency": latency,
        "calls": calls,
        "budgets_spent": budgets_spent_of(sites=sites),
        "currency": settings.LLM_COST_CURRENCY,
    }
    return render(request, "dashboard/metrics.html", context)
