"""A lead's page, and each of its panels on its own for htmx and the live feed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET

from leads.dashboard.auth import StaffRequest, staff_required
from leads.dashboard.selectors.facts import lead_fact_rows
from leads.dashboard.selectors.leads import lead_for_user, lead_history, lead_transcript
from leads.models import Lead
from leads.selectors.access import owners_for


def lead_or_404(request: StaffRequest, lead_id: int) -> Lead:
    """The lead, if the rep may see it."""
    lead = lead_for_user(user=request.user, lead_id=lead_id)
    if lead is None:
        # Not there, or on a site the rep does not work: the same answer, so ids leak nothing.
        raise Http404("No such lead, or it is on a site you are not on the team of.")
    return lead


def detail_context(request: StaffRequest, lead: Lead, **extra: Any) -> dict[str, Any]:
    """What the lead's page shows. Each part is read only when a template uses it: a live
    refresh renders one panel, and should not read the other four's rows."""
    conversation = lead.conversation
    return {
        "lead": lead,
        "conversation": conversation,
        "messages": SimpleLazyObject(lambda: lead_transcript(lead=lead)),
        "facts": SimpleLazyObject(lambda: lead_fact_rows(lead)),
        "history": SimpleLazyObject(lambda: lead_history(lead=lead)),
        "owners": SimpleLazyObject(
            lambda: list(owners_for(user=request.user, site_id=lead.site_id))
        ),
        "statuses": Lead.Status.choices,
        "mine": conversation.agent_id == request.user.pk,
        "agent": SimpleLazyObject(lambda: conversation.agent) if conversation.agent_id else None,
        "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
        **extra,
    }


# Which template renders each part of the lead page that htmx refreshes on its own.
DETAIL = "dashboard/lead_detail.html"
PANELS = {
    "transcript": "dashboard/_transcript.html",
    "facts": "dashboard/_facts.html",
    "summary": "dashboard/_summary.html",
    "history": "dashboard/_history.html",
    "takeover": "dashboard/_takeover.html",
}


@require_GET
@staff_required
def lead_detail(request: StaffRequest, lead_id: int) -> HttpResponse:
    """A lead's page; `?panel=` one part of it, for htmx."""
    lead = lead_or_404(request, lead_id)
    panel = request.GET.get("panel")
    if panel is not None:
        if panel not in PANELS:
            raise Http404(f"No panel {panel!r}; use one of {', '.join(PANELS)}.")
        return render(request, PANELS[panel], detail_context(request, lead))
    return render(request, DETAIL, detail_context(request, lead))


def panel_done(
    request: StaffRequest, lead: Lead, panel: str, *, error: str = "", **extra: Any
) -> HttpResponse:
    """After a POST: the refreshed panel for htmx (422 with the error), else back to the page."""
    if not request.htmx:
        # Without JavaScript the error is shown on the page it came from.
        if error:
            context = detail_context(request, lead_or_404(request, lead.id), error=error, **extra)
            return render(request, DETAIL, context, status=422)
        return redirect("dashboard:lead-detail", lead_id=lead.id)
    # The other panels of this page, and other reps' pages, follow through the live socket: the
    # change sends a "lead" frame once it commits.
    context = detail_context(request, lead_or_404(request, lead.id), error=error, **extra)
    return render(request, PANELS[panel], context, status=422 if error else 200)
