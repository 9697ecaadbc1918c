"""A Site's knowledge, as its team keeps it: the product summary, the FAQ, the documents, and the
questions visitors asked that it did not answer. Every form works without JavaScript: a POST,
then a redirect to the page (or the page with its error, 422)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from leads.dashboard.auth import StaffRequest, staff_required
from leads.dashboard.selectors.knowledge import site_knowledge
from leads.errors import SalesbotError
from leads.models import FaqEntry, KnowledgeDocument, Site
from leads.selectors.access import sites_visible
from leads.services.compose import composition_of
from leads.services.knowledge import (
    document_delete,
    document_ingest,
    faq_entry_delete,
    faq_entry_save,
    site_summary_set,
)

PAGE = "dashboard/knowledge.html"
ASK_MAX_CHARS = 500


def site_or_404(request: StaffRequest, site_id: int) -> Site:
    site = sites_visible(user=request.user).filter(id=site_id).first()
    if site is None:
        raise Http404("No such site, or you are not on its team.")
    return site


def _page(request: StaffRequest, site: Site, *, error: str = "", status: int = 200) -> HttpResponse:
    ask = " ".join(request.GET.get("ask", "").split())[:ASK_MAX_CHARS]
    context = {
        "knowledge": site_knowledge(site=site),
        "sites": sites_visible(user=request.user).order_by("name"),
        "error": error,
        "ask": ask,
        # "Try a question": the reply a new visitor asking it would get, composed, not sent.
        "tried": composition_of(site=site, text=ask) if ask else None,
    }
    return render(request, PAGE, context, status=status)


def _done(request: StaffRequest, site: Site, said: str) -> HttpResponse:
    messages.success(request, said)
    return redirect("dashboard:knowledge-site", site_id=site.id)


@require_GET
@staff_required
def knowledge(request: StaffRequest) -> HttpResponse:
    """The first of the rep's sites (a question to try comes along)."""
    site = sites_visible(user=request.user).order_by("name").first()
    if site is None:
        return render(request, PAGE, {"knowledge": None, "sites": []})
    query = f"?{request.GET.urlencode()}" if request.GET else ""
    return redirect(reverse("dashboard:knowledge-site", args=[site.id]) + query)


@require_GET
@staff_required
def knowledge_site(request: StaffRequest, site_id: int) -> HttpResponse:
    return _page(request, site_or_404(request, site_id))


@require_POST
@staff_required
def summary_save(request: StaffRequest, site_id: int) -> HttpResponse:
    site = site_or_404(request, site_id)
    try:
        site_summary_set(site=site, text=request.POST.get("description", ""))
    except SalesbotError as exc:
        return _page(request, site, error=str(exc), status=422)
    return _done(request, site, "The product summary is saved.")


@require_POST
@staff_required
def faq_save(request: StaffRequest, site_id: int, entry_id: int | None = None) -> HttpResponse:
    """Add an FAQ entry, or change one (`entry_id`)."""
    site = site_or_404(request, site_id)
    entry = get_object_or_404(FaqEntry, id=entry_id, site=site) if entry_id else None
    try:
        faq_entry_save(
            site=site,
            entry=entry,
            question=request.POST.get("question", ""),
            answer=request.POST.get("answer", ""),
        )
    except SalesbotError as exc:
        return _page(request, site, error=str(exc), status=422)
    return _done(request, site, "The FAQ entry is saved." if entry else "The FAQ entry is added.")


@require_POST
@staff_required
def faq_delete(request: StaffRequest, site_id: int, entry_id: int) -> HttpResponse:
    site = site_or_404(request, site_id)
    faq_entry_delete(entry=get_object_or_404(FaqEntry, id=entry_id, site=site))
    return _done(request, site, "The FAQ entry is removed.")


@require_POST
@staff_required
def document_upload(request: StaffRequest, site_id: int) -> HttpResponse:
    site = site_or_404(request, site_id)
    upload = request.FILES.get("file")
    if upload is None or not upload.name:
        return _page(request, site, error="Choose the file to read.", status=422)
    try:
        document = document_ingest(
            site=site,
            name=upload.name,
            data=upload.read(),
            title=request.POST.get("title", "").strip(),
        )
    except SalesbotError as exc:
        return _page(request, site, error=str(exc), status=422)
    count = document.passages.count()
    return _done(request, site, f"“{document.title}” is read: {count} passage(s).")


@require_POST
@staff_required
def document_remove(request: StaffRequest, site_id: int, document_id: int) -> HttpResponse:
    site = site_or_404(request, site_id)
    document = get_object_or_404(KnowledgeDocument, id=document_id, site=site)
    document_delete(document=document)
    return _done(request, site, f"“{document.title}” is removed.")
