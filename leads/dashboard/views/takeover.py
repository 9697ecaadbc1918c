"""A rep in the visitor's chat: take it over, write, ask the model for a suggestion, hand it
back."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.views.decorators.http import require_POST

from leads.dashboard.auth import StaffRequest, staff_required
from leads.dashboard.views.detail import lead_or_404, panel_done
from leads.errors import SalesbotError
from leads.services.suggestions import suggestion_request
from leads.services.takeover import (
    agent_message_send,
    conversation_handback,
    conversation_takeover,
)


@require_POST
@staff_required
def takeover(request: StaffRequest, lead_id: int) -> HttpResponse:
    lead = lead_or_404(request, lead_id)
    try:
        conversation_takeover(
            conversation=lead.conversation, by=request.user, force=request.POST.get("force") == "1"
        )
    except SalesbotError as exc:
        return panel_done(request, lead, "takeover", error=str(exc))
    return panel_done(request, lead, "takeover")


@require_POST
@staff_required
def handback(request: StaffRequest, lead_id: int) -> HttpResponse:
    lead = lead_or_404(request, lead_id)
    conversation_handback(conversation=lead.conversation, by=request.user)
    return panel_done(request, lead, "takeover")


@require_POST
@staff_required
def agent_message(request: StaffRequest, lead_id: int) -> HttpResponse:
    lead = lead_or_404(request, lead_id)
    text = request.POST.get("text", "")
    try:
        agent_message_send(conversation=lead.conversation, text=text, by=request.user)
    except SalesbotError as exc:
        return panel_done(request, lead, "takeover", error=str(exc), draft=text)
    return panel_done(request, lead, "takeover")


@require_POST
@staff_required
def suggest(request: StaffRequest, lead_id: int) -> HttpResponse:
    """Ask the model for a reply the rep may edit and send; it streams in over the live socket."""
    lead = lead_or_404(request, lead_id)
    if lead.conversation.agent_id != request.user.pk:
        return HttpResponse(
            "Take the conversation over to get suggested replies.",
            status=409,
            content_type="text/plain",
        )
    request_id = uuid.uuid4().hex
    try:
        suggestion_request(conversation=lead.conversation, request_id=request_id)
    except SalesbotError as exc:
        return HttpResponse(str(exc), status=exc.http_status, content_type="text/plain")
    return HttpResponse(status=202, headers={"X-Suggestion": request_id})
