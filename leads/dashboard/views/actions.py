"""What a rep does to a lead: status, owner, notes, a fact's correction, erasure. Every form
also works without JavaScript: a POST, then a redirect (or the page with its error)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from leads.dashboard.auth import StaffRequest, staff_required
from leads.dashboard.forms import FactForm
from leads.dashboard.views.detail import DETAIL, PANELS, detail_context, lead_or_404, panel_done
from leads.errors import SalesbotError
from leads.fields import editable
from leads.services.facts import lead_facts_correct
from leads.services.leads import lead_erase, lead_note_add, lead_owner_assign
from leads.services.qualification import lead_status_set, lead_status_unlock


@require_POST
@staff_required
def lead_status(request: StaffRequest, lead_id: int) -> HttpResponse:
    lead = lead_or_404(request, lead_id)
    status = request.POST.get("status", "")
    if status == "auto":
        lead_status_unlock(lead=lead)
        return panel_done(request, lead, "summary")
    try:
        lead_status_set(lead=lead, status=status, by=request.user)
    except SalesbotError as exc:
        return panel_done(request, lead, "summary", error=f"{exc}.")
    return panel_done(request, lead, "summary")


@require_POST
@staff_required
def lead_owner(request: StaffRequest, lead_id: int) -> HttpResponse:
    lead = lead_or_404(request, lead_id)
    owner_id = request.POST.get("owner", "")
    owner = None
    if owner_id:
        owner = get_user_model().objects.filter(pk=owner_id if owner_id.isdigit() else 0).first()
        if owner is None:
            return panel_done(
                request, lead, "summary", error="No such user; pick one from the list."
            )
    try:
        lead_owner_assign(lead=lead, owner=owner, by=request.user)
    except SalesbotError as exc:
        return panel_done(request, lead, "summary", error=str(exc))
    return panel_done(request, lead, "summary")


@require_POST
@staff_required
def lead_note(request: StaffRequest, lead_id: int) -> HttpResponse:
    lead = lead_or_404(request, lead_id)
    try:
        lead_note_add(lead=lead, text=request.POST.get("text", ""), by=request.user)
    except SalesbotError as exc:
        return panel_done(request, lead, "history", error=str(exc))
    return panel_done(request, lead, "history")


@require_http_methods(["GET", "POST"])
@staff_required
def lead_fact(request: StaffRequest, lead_id: int, fact: str) -> HttpResponse:
    """GET: the edit form of one fact (the facts panel, or the page without JavaScript).
    POST: save it as a staff correction."""
    lead = lead_or_404(request, lead_id)
    facts = editable()
    if fact not in facts:
        raise Http404(f"No fact {fact!r}; use one of {', '.join(facts)}.")
    region = lead.site.default_region
    if request.method == "GET":
        initial = {name: getattr(lead, name) for name in facts[fact]}
        form = FactForm(initial=initial, fact=fact, region=region)
        context = detail_context(request, lead, edit=fact, fact_form=form)
        return render(request, PANELS["facts"] if request.htmx else DETAIL, context)
    form = FactForm(request.POST, fact=fact, region=region)
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return panel_done(request, lead, "facts", error=errors, edit=fact, fact_form=form)
    try:
        lead_facts_correct(lead=lead, values=form.values(), by=request.user)
    except SalesbotError as exc:
        return panel_done(request, lead, "facts", error=str(exc))
    return panel_done(request, lead, "facts")


@require_POST
@staff_required
def lead_erase_view(request: StaffRequest, lead_id: int) -> HttpResponse:
    lead = lead_or_404(request, lead_id)
    if request.POST.get("confirm") != "erase":
        return panel_done(
            request, lead, "summary", error='Type "erase" to confirm; it cannot be undone.'
        )
    lead_erase(lead=lead, by=request.user)
    if request.htmx:
        return HttpResponseClientRedirect(resolve_url("dashboard:lead-detail", lead_id=lead.id))
    return redirect("dashboard:lead-detail", lead_id=lead.id)
