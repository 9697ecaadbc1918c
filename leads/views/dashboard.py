"""The sales dashboard: the lead list, a lead's page, and what a rep does there.

Plain function views. `request.htmx` only chooses between a whole page and the partial htmx
swaps in; every form also works without JavaScript (a POST, then a redirect).
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from leads.forms import EDITABLE, LABELS, FactForm, LeadFilterForm
from leads.models import Evidence, Lead
from leads.selectors import dashboard as leads_selectors
from leads.selectors.dashboard import LeadFilters
from leads.services.extraction import lead_facts_correct
from leads.services.leads import (
    LeadActionRefused,
    dashboard_seen_mark,
    lead_erase,
    lead_note_add,
    lead_owner_assign,
)
from leads.services.scoring import lead_status_set, lead_status_unlock
from leads.services.suggestions import suggestion_request
from leads.services.takeover import (
    TakeoverRefused,
    agent_message_send,
    conversation_handback,
    conversation_takeover,
)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Anonymous users go to the login page; signed-in users who are not staff get a 403."""

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if request.htmx:
                # A partial would land inside the page: send the whole browser to the login.
                path = request.htmx.current_url_abs_path or request.get_full_path()
                login = resolve_url(settings.LOGIN_URL)
                return HttpResponseClientRedirect(f"{login}?{urlencode({'next': path}, safe='/')}")
            return redirect_to_login(request.get_full_path())
        if not leads_selectors.user_is_staff(request.user):
            raise PermissionDenied("The dashboard is for staff; ask an administrator for access.")
        return view(request, *args, **kwargs)

    return wrapper


def _lead(request: HttpRequest, lead_id: int) -> Lead:
    lead = leads_selectors.lead_for_user(user=request.user, lead_id=lead_id)
    if lead is None:
        # Not there, or on a site the rep does not work: the same answer, so ids leak nothing.
        raise Http404("No such lead, or it is on a site you are not on the team of.")
    return lead


# ---- the list ---------------------------------------------------------------------------------


@require_GET
@staff_required
def lead_list(request: HtmxHttpRequest) -> HttpResponse:
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
        "new_count": leads_selectors.leads_new_count(user=request.user, since=since),
        "export_query": _without(request.GET, "page", "since"),
        "filtered": replace(filters, sort="updated") != LeadFilters(),
    }
    if request.htmx and request.htmx.target == "lead-table":
        return render(request, "leads/dashboard/_lead_table.html", context)
    return render(request, "leads/dashboard/lead_list.html", context)


def _filtered(request: HttpRequest) -> tuple[LeadFilterForm, LeadFilters, QuerySet[Lead]]:
    """The list's filters as the query string gives them (invalid parts left out), and the
    leads the rep sees that match them: the page and the CSV export show the same leads."""
    form = LeadFilterForm(request.GET, user=request.user)
    form.is_valid()
    filters = form.filters()
    return form, filters, leads_selectors.lead_list(user=request.user, filters=filters)


def _without(query: Any, *names: str) -> str:
    query = query.copy()
    for name in names:
        query.pop(name, None)
    return str(query.urlencode())


class _Echo:
    """A file-like object whose write() hands back the line, for streaming csv.writer rows."""

    def write(self, value: str) -> str:
        return value


EXPORT_COLUMNS = [
    "id", "site", "name", "email", "phone", "company", "job_title", "need", "budget_amount",
    "budget_currency", "seats", "timeline_months", "is_decision_maker", "score", "status",
    "owner", "first_contact", "last_contact", "qualified_at", "created",
]  # fmt: skip


def _csv_cell(value: object) -> object:
    # A cell a spreadsheet would run as a formula (=, +, -, @) is quoted as text (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else value


def lead_rows(leads: Any) -> Iterator[list[object]]:
    """The export's header, then one row per lead, read from the database in chunks."""
    yield EXPORT_COLUMNS
    for lead in leads.iterator(chunk_size=500):
        yield [
            _csv_cell(v)
            for v in (
                lead.id,
                lead.site.key,
                lead.name,
                lead.email,
                lead.phone,
                lead.company,
                lead.job_title,
                lead.need,
                lead.budget_amount,
                lead.budget_currency,
                lead.seats,
                lead.timeline_months,
                lead.is_decision_maker,
                lead.score,
                lead.status,
                lead.owner.get_username() if lead.owner else "",
                lead.first_contact,
                lead.last_contact,
                lead.qualified_at,
                lead.created,
            )
        ]


def csv_response(leads: Any, filename: str) -> StreamingHttpResponse:
    """The leads as a CSV download, written row by row as the client reads it."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in lead_rows(leads)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@staff_required
def lead_export(request: HttpRequest) -> StreamingHttpResponse:
    """The current filtered list as CSV, all pages."""
    _, _, leads = _filtered(request)
    return csv_response(leads, f"leads-{timezone.localdate():%Y-%m-%d}.csv")


# ---- one lead ---------------------------------------------------------------------------------


def _facts(lead: Lead) -> list[dict[str, Any]]:
    evidence = leads_selectors.lead_evidence(lead=lead)
    rows = []
    for fact, names in EDITABLE.items():
        values = [getattr(lead, n) for n in names]
        shown = " ".join(_shown(v) for v in values if v not in (None, ""))
        if fact == "is_decision_maker" and lead.is_decision_maker is not None:
            shown = "Yes" if lead.is_decision_maker else "No"
        rows.append(
            {
                "fact": fact,
                "label": LABELS[fact],
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


def _detail_context(request: HttpRequest, lead: Lead, **extra: Any) -> dict[str, Any]:
    """What the lead's page shows. Each part is read only when a template uses it: a live
    refresh renders one panel, and should not read the other four's rows."""
    conversation = lead.conversation
    return {
        "lead": lead,
        "conversation": conversation,
        "messages": SimpleLazyObject(lambda: leads_selectors.lead_transcript(lead=lead)),
        "facts": SimpleLazyObject(lambda: _facts(lead)),
        "history": SimpleLazyObject(lambda: leads_selectors.lead_history(lead=lead)),
        "owners": SimpleLazyObject(
            lambda: list(leads_selectors.owners_for(user=request.user, site_id=lead.site_id))
        ),
        "statuses": Lead.Status.choices,
        "mine": conversation.agent_id == request.user.pk,
        "agent": SimpleLazyObject(lambda: conversation.agent) if conversation.agent_id else None,
        "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
        **extra,
    }


# Which template renders each part of the lead page that htmx refreshes on its own.
DETAIL = "leads/dashboard/lead_detail.html"
PANELS = {
    "transcript": "leads/dashboard/_transcript.html",
    "facts": "leads/dashboard/_facts.html",
    "summary": "leads/dashboard/_summary.html",
    "history": "leads/dashboard/_history.html",
    "takeover": "leads/dashboard/_takeover.html",
}


@require_GET
@staff_required
def lead_detail(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """A lead's page; `?panel=` one part of it, for htmx."""
    lead = _lead(request, lead_id)
    panel = request.GET.get("panel")
    if panel is not None:
        if panel not in PANELS:
            raise Http404(f"No panel {panel!r}; use one of {', '.join(PANELS)}.")
        return render(request, PANELS[panel], _detail_context(request, lead))
    return render(request, DETAIL, _detail_context(request, lead))


def _done(
    request: HtmxHttpRequest, lead: Lead, panel: str, *, error: str = "", **extra: Any
) -> HttpResponse:
    """After a POST: the refreshed panel for htmx (422 with the error), else back to the page."""
    if not request.htmx:
        # Without JavaScript the error is shown on the page it came from.
        if error:
            context = _detail_context(request, _lead(request, lead.id), error=error, **extra)
            return render(request, DETAIL, context, status=422)
        return redirect("dashboard:lead-detail", lead_id=lead.id)
    # The other panels of this page, and other reps' pages, follow through the live socket: the
    # change sends a "lead" frame once it commits.
    context = _detail_context(request, _lead(request, lead.id), error=error, **extra)
    return render(request, PANELS[panel], context, status=422 if error else 200)


@require_POST
@staff_required
def lead_status(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    status = request.POST.get("status", "")
    if status == "auto":
        lead_status_unlock(lead=lead)
        return _done(request, lead, "summary")
    try:
        lead_status_set(lead=lead, status=status, by=request.user)
    except ValueError as exc:
        return _done(request, lead, "summary", error=f"{exc}.")
    return _done(request, lead, "summary")


@require_POST
@staff_required
def lead_owner(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    owner_id = request.POST.get("owner", "")
    owner = None
    if owner_id:
        owner = get_user_model().objects.filter(pk=owner_id if owner_id.isdigit() else 0).first()
        if owner is None:
            return _done(request, lead, "summary", error="No such user; pick one from the list.")
    try:
        lead_owner_assign(lead=lead, owner=owner, by=request.user)
    except LeadActionRefused as exc:
        return _done(request, lead, "summary", error=str(exc))
    return _done(request, lead, "summary")


@require_POST
@staff_required
def lead_note(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    try:
        lead_note_add(lead=lead, text=request.POST.get("text", ""), by=request.user)
    except LeadActionRefused as exc:
        return _done(request, lead, "history", error=str(exc))
    return _done(request, lead, "history")


@require_http_methods(["GET", "POST"])
@staff_required
def lead_fact(request: HtmxHttpRequest, lead_id: int, fact: str) -> HttpResponse:
    """GET: the edit form of one fact (the facts panel, or the page without JavaScript).
    POST: save it as a staff correction."""
    lead = _lead(request, lead_id)
    if fact not in EDITABLE:
        raise Http404(f"No fact {fact!r}; use one of {', '.join(EDITABLE)}.")
    region = lead.site.default_region
    if request.method == "GET":
        initial = {name: getattr(lead, name) for name in EDITABLE[fact]}
        form = FactForm(initial=initial, fact=fact, region=region)
        context = _detail_context(request, lead, edit=fact, fact_form=form)
        return render(request, PANELS["facts"] if request.htmx else DETAIL, context)
    form = FactForm(request.POST, fact=fact, region=region)
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return _done(request, lead, "facts", error=errors, edit=fact, fact_form=form)
    try:
        lead_facts_correct(lead=lead, values=form.values(), by=request.user)
    except ValueError as exc:
        return _done(request, lead, "facts", error=str(exc))
    return _done(request, lead, "facts")


@require_POST
@staff_required
def lead_erase_view(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    if request.POST.get("confirm") != "erase":
        return _done(
            request, lead, "summary", error='Type "erase" to confirm; it cannot be undone.'
        )
    lead_erase(lead=lead, by=request.user)
    if request.htmx:
        return HttpResponseClientRedirect(resolve_url("dashboard:lead-detail", lead_id=lead.id))
    return redirect("dashboard:lead-detail", lead_id=lead.id)


# ---- taking a conversation over ---------------------------------------------------------------


@require_POST
@staff_required
def takeover(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    try:
        conversation_takeover(
            conversation=lead.conversation, by=request.user, force=request.POST.get("force") == "1"
        )
    except TakeoverRefused as exc:
        return _done(request, lead, "takeover", error=str(exc))
    return _done(request, lead, "takeover")


@require_POST
@staff_required
def handback(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    conversation_handback(conversation=lead.conversation, by=request.user)
    return _done(request, lead, "takeover")


@require_POST
@staff_required
def agent_message(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    text = request.POST.get("text", "")
    try:
        agent_message_send(conversation=lead.conversation, text=text, by=request.user)
    except TakeoverRefused as exc:
        return _done(request, lead, "takeover", error=str(exc), draft=text)
    return _done(request, lead, "takeover")


@require_POST
@staff_required
def suggest(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """Ask the model for a reply the rep may edit and send; it streams in over the live socket."""
    lead = _lead(request, lead_id)
    if lead.conversation.agent_id != request.user.pk:
        return HttpResponse(
            "Take the conversation over to get suggested replies.",
            status=409,
            content_type="text/plain",
        )
    request_id = uuid.uuid4().hex
    try:
        suggestion_request(conversation=lead.conversation, request_id=request_id)
    except TakeoverRefused as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain")
    return HttpResponse(status=202, headers={"X-Suggestion": request_id})
