"""The lead list: filtered, searched, sorted, paged, live; and the same leads as CSV."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET

from leads.dashboard.auth import StaffRequest, staff_required
from leads.dashboard.forms import LeadFilterForm
from leads.dashboard.selectors.leads import LeadFilters, leads_filtered, leads_new_count
from leads.exports import csv_response
from leads.models import Lead
from leads.selectors.access import sites_visible
from leads.selectors.costs import budgets_spent_of
from leads.services.leads import dashboard_seen_mark


@require_GET
@staff_required
def lead_list(request: StaffRequest) -> HttpResponse:
    """The leads the rep sees, filtered and sorted; the table alone for htmx."""
    form, filters, leads = _filtered(request)
    page = Paginator(leads, settings.DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    if request.htmx:
        # A refresh of the open page keeps the "new" badges it was first shown with.
        try:
            since = parse_datetime(request.GET.get("since", ""))
        except ValueError:  # well-formed but impossible (February 30th): no badges
            since = None
    else:
        # The first visit marks nothing new; what arrives while the page is open is.
        since = dashboard_seen_mark(user=request.user) or timezone.now()
    query = request.GET.copy()
    query.pop("page", None)
    query["since"] = since.isoformat() if since else ""
    context = {
        "form": form,
        "page": page,
        "since": since,
        "query": query.urlencode(),
        "new_count": leads_new_count(user=request.user, since=since),
        "export_query": _without(request.GET, "page", "since"),
        "filtered": replace(filters, sort="updated") != LeadFilters(),
    }
    if request.htmx and request.htmx.target == "lead-table":
        return render(request, "dashboard/_lead_table.html", context)
    context["budgets_spent"] = budgets_spent_of(sites=sites_visible(user=request.user))
    context["currency"] = settings.LLM_COST_CURRENCY
    return render(request, "dashboard/lead_list.html", context)


def _filtered(request: StaffRequest) -> tuple[LeadFilterForm, LeadFilters, QuerySet[Lead]]:
    """The list's filters as the query string gives them (invalid parts left out), and the
    leads the rep sees that match them: the page and the CSV export show the same leads."""
    form = LeadFilterForm(request.GET, user=request.user)
    form.is_valid()
    filters = form.filters()
    return form, filters, leads_filtered(user=request.user, filters=filters)


def _without(query: Any, *names: str) -> str:
    query = query.copy()
    for name in names:
        query.pop(name, None)
    return str(query.urlencode())


@require_GET
@staff_required
def lead_export(request: StaffRequest) -> StreamingHttpResponse:
    """The current filtered list as CSV, all pages."""
    _, _, leads = _filtered(request)
    return csv_response(leads, f"leads-{timezone.localdate():%Y-%m-%d}.csv")
