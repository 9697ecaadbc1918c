"""The dashboard's knowledge page: a site's team keeps its summary, FAQ and documents there,
tries a question, and sees what visitors asked that the knowledge did not answer."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leads.models import FaqEntry, KnowledgeDocument, LeadEvent, Passage, Site
from leads.services.history import event_record
from leads.services.knowledge import faq_entry_save
from tests.leads.factories import lead_create, staff_user

pytestmark = pytest.mark.django_db

GUIDE = (
    b"# Pricing\n\nThe Team plan costs EUR 29 per seat per month.\n\n"
    b"# Data\n\nData stays in the EU.\n"
)


@pytest.fixture
def rep_client(client, site):  # type: ignore[no-untyped-def]
    client.force_login(staff_user("rita", site=site))
    return client


def _page(site: Site) -> str:
    return reverse("dashboard:knowledge-site", args=[site.id])


def test_the_knowledge_link_opens_the_reps_first_site(rep_client, site):
    response = rep_client.get(reverse("dashboard:knowledge"))
    assert response.status_code == 302 and response["Location"] == _page(site)
    html = rep_client.get(_page(site)).content.decode()
    assert 'Knowledge <span class="sub">of Acme Analytics</span>' in html


def test_another_teams_site_is_not_found(rep_client, other_site):
    assert rep_client.get(_page(other_site)).status_code == 404
    url = reverse("dashboard:faq-add", args=[other_site.id])
    assert rep_client.post(url, {"question": "Q?", "answer": "A."}).status_code == 404
    assert not FaqEntry.objects.exists()


def test_an_faq_entry_is_added_changed_and_removed_with_its_passage(rep_client, site):
    response = rep_client.post(
        reverse("dashboard:faq-add", args=[site.id]),
        {"question": "Do you offer SSO?", "answer": "Yes, SAML on Enterprise."},
    )
    assert response.status_code == 302
    entry = FaqEntry.objects.get(site=site)
    assert Passage.objects.get(faq=entry).text == "Yes, SAML on Enterprise."
    rep_client.post(
        reverse("dashboard:faq-save", args=[site.id, entry.id]),
        {"question": "Do you offer SSO?", "answer": "Yes: SAML, on the Enterprise plan."},
    )
    assert Passage.objects.get(faq=entry).text == "Yes: SAML, on the Enterprise plan."
    html = rep_client.get(_page(site)).content.decode()
    assert "The FAQ entry is saved." in html and "Yes: SAML, on the Enterprise plan." in html
    rep_client.post(reverse("dashboard:faq-delete", args=[site.id, entry.id]))
    assert not FaqEntry.objects.exists() and not Passage.objects.filter(faq__isnull=False).exists()


def test_an_faq_entry_without_an_answer_is_refused_with_the_reason(rep_client, site):
    response = rep_client.post(
        reverse("dashboard:faq-add", args=[site.id]), {"question": "Is there an app?"}
    )
    assert response.status_code == 422
    assert "An FAQ entry needs a question and its answer." in response.content.decode()
    assert not FaqEntry.objects.exists()


def test_a_document_is_uploaded_read_into_passages_and_removed(rep_client, site):
    upload = SimpleUploadedFile("guide.md", GUIDE, content_type="text/markdown")
    response = rep_client.post(
        reverse("dashboard:document-upload", args=[site.id]), {"file": upload, "title": ""}
    )
    assert response.status_code == 302
    document = KnowledgeDocument.objects.get(site=site)
    assert document.passages.count() == 2
    html = rep_client.get(_page(site)).content.decode()
    assert "is read: 2 passage(s)." in html and "guide.md, 2 passages" in html
    rep_client.post(reverse("dashboard:document-delete", args=[site.id, document.id]))
    assert (
        not KnowledgeDocument.objects.exists()
        and not Passage.objects.filter(document__isnull=False).exists()
    )


def test_a_file_that_cannot_be_read_is_refused_and_changes_nothing(rep_client, site):
    upload = SimpleUploadedFile("slides.pptx", b"PK\x03\x04 not a document")
    response = rep_client.post(
        reverse("dashboard:document-upload", args=[site.id]), {"file": upload}
    )
    assert response.status_code == 422 and "pptx" in response.content.decode()
    assert not KnowledgeDocument.objects.exists()


def test_the_product_summary_is_saved_as_a_passage(rep_client, site):
    rep_client.post(
        reverse("dashboard:knowledge-summary", args=[site.id]),
        {"description": "  Acme sells dashboards for sales teams.  "},
    )
    site.refresh_from_db()
    assert site.description == "Acme sells dashboards for sales teams."
    summary = Passage.objects.get(site=site, document__isnull=True, faq__isnull=True)
    assert summary.text == site.description


def test_a_summary_too_long_for_every_prompt_is_refused_with_the_limit(rep_client, site):
    before = site.description
    response = rep_client.post(
        reverse("dashboard:knowledge-summary", args=[site.id]), {"description": "word " * 1500}
    )
    assert response.status_code == 422
    assert "The product summary is 7499 characters long; keep it within 5000" in (
        response.content.decode()
    )
    site.refresh_from_db()
    assert site.description == before


def test_trying_a_question_shows_the_reply_a_new_visitor_would_get_and_stores_nothing(
    rep_client, site
):
    faq_entry_save(site=site, question="Is there a free trial?", answer="Yes, for 14 days.")
    html = rep_client.get(_page(site), {"ask": "Is there a free trial?"}).content.decode()
    assert "Yes, for 14 days." in html and "question · en" in html
    html = rep_client.get(_page(site), {"ask": "Do you have a <b>public API</b>?"}).content
    text = html.decode()
    assert "colleague" in text and "The team would get a note" in text
    assert "<b>public" not in text  # what staff typed is shown escaped
    assert not LeadEvent.objects.exists()


def test_questions_the_knowledge_did_not_answer_are_listed_with_their_lead(rep_client, site):
    lead = lead_create(site)
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.UNANSWERED,
        text='The knowledge does not answer it. They wrote: "<i>API?</i>"',
    )
    html = rep_client.get(_page(site)).content.decode()
    assert "&lt;i&gt;API?&lt;/i&gt;" in html
    assert reverse("dashboard:lead-detail", args=[lead.id]) in html
