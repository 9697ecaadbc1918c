"""A Site's knowledge kept as passages (leads/services/knowledge.py) and edited in the admin:
documents read and replaced, FAQ entries and the product summary kept in step."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leads.documents import HEADING_SEPARATOR as SEP
from leads.errors import DocumentInvalid, TextInvalid
from leads.models import FaqEntry, KnowledgeDocument, Passage
from leads.services.knowledge import document_ingest, faq_entry_save, summary_passage_sync
from tests.leads.factories import staff_user

pytestmark = pytest.mark.django_db

GUIDE = b"""# Lumio guide

## Pricing

EUR 12 a seat a month.

## Data residency

All data is stored in Frankfurt (EU).
"""


def _texts(**where: object) -> list[tuple[str, str]]:
    return list(Passage.objects.filter(**where).values_list("heading", "text"))


def test_a_document_is_read_into_passages_and_replaced_by_a_file_of_the_same_name(demo_site):
    document = document_ingest(site=demo_site, name="guide.md", data=GUIDE)
    assert (document.title, document.kind, document.source) == (
        "Lumio guide",
        "markdown",
        "guide.md",
    )
    assert _texts(document=document) == [
        (f"Lumio guide{SEP}Pricing", "EUR 12 a seat a month."),
        (f"Lumio guide{SEP}Data residency", "All data is stored in Frankfurt (EU)."),
    ]
    again = document_ingest(
        site=demo_site, name="guide.md", data=GUIDE.replace(b"12", b"14"), title="Guide"
    )
    assert again.id == document.id and again.title == "Guide"
    assert _texts(document=document)[0] == (f"Lumio guide{SEP}Pricing", "EUR 14 a seat a month.")
    assert KnowledgeDocument.objects.count() == 1


def test_a_document_that_cannot_be_read_changes_nothing(demo_site):
    document = document_ingest(site=demo_site, name="guide.md", data=GUIDE)
    with pytest.raises(DocumentInvalid):
        document_ingest(site=demo_site, name="guide.md", data="café".encode("latin-1"))
    assert len(_texts(document=document)) == 2


def test_faq_entries_and_the_summary_are_passages_too(demo_site):
    entry = faq_entry_save(site=demo_site, question="Do you  support SSO?", answer=" Yes, SAML. ")
    assert _texts(faq=entry) == [("Do you support SSO?", "Yes, SAML.")]
    faq_entry_save(site=demo_site, entry=entry, question="Do you support SSO?", answer="Yes, OIDC.")
    assert _texts(faq=entry) == [("Do you support SSO?", "Yes, OIDC.")]
    with pytest.raises(TextInvalid):
        faq_entry_save(site=demo_site, question="Anything?", answer="  ")
    with pytest.raises(TextInvalid, match="An FAQ question is 501 characters long; keep it"):
        faq_entry_save(site=demo_site, question="x" * 501, answer="Yes.")
    with pytest.raises(TextInvalid, match="An FAQ answer is 5001 characters long"):
        faq_entry_save(site=demo_site, entry=entry, question="Do you?", answer="y" * 5001)
    assert _texts(faq=entry) == [("Do you support SSO?", "Yes, OIDC.")]  # unchanged

    demo_site.description = "Lumio turns spreadsheets into live dashboards."
    summary_passage_sync(site=demo_site)
    summary = {"site": demo_site, "document__isnull": True, "faq__isnull": True}
    assert _texts(**summary) == [(demo_site.name, demo_site.description)]
    demo_site.description = ""
    summary_passage_sync(site=demo_site)
    assert _texts(**summary) == []


def test_staff_upload_a_document_in_the_admin_and_see_its_passages(admin_client, demo_site):
    upload = SimpleUploadedFile("guide.md", GUIDE, content_type="text/markdown")
    response = admin_client.post(
        reverse("admin:leads_knowledgedocument_add"),
        {"site": demo_site.id, "title": "", "file": upload, **_no_passages()},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    document = KnowledgeDocument.objects.get()
    page = admin_client.get(reverse("admin:leads_knowledgedocument_change", args=[document.id]))
    assert "All data is stored in Frankfurt (EU)." in page.content.decode()

    refused = admin_client.post(
        reverse("admin:leads_knowledgedocument_add"),
        {
            "site": demo_site.id,
            "file": SimpleUploadedFile("scan.docx", b"PK\x03\x04"),
            **_no_passages(),
        },
    )
    assert refused.status_code == 200
    assert "name ending in .md, .html, .pdf or .txt" in refused.content.decode()


def test_the_sites_faq_is_edited_with_the_site_in_the_admin(admin_client, demo_site):
    url = reverse("admin:leads_site_change", args=[demo_site.id])
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data |= {
        "team": [],
        "description": "Lumio turns spreadsheets into live dashboards.",
        "faq-TOTAL_FORMS": 1,
        "faq-INITIAL_FORMS": 0,
        "faq-0-position": 1,
        "faq-0-question": "Is my data stored in the EU?",
        "faq-0-answer": "Yes: in Frankfurt.",
    }
    # The JSON fields as their text boxes hold them.
    data |= {
        n: json.dumps(v) for n, v in data.items() if isinstance(v, dict | list) and n != "team"
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = FaqEntry.objects.get(site=demo_site)
    assert _texts(faq=entry) == [("Is my data stored in the EU?", "Yes: in Frankfurt.")]
    assert Passage.objects.filter(site=demo_site, text__startswith="Lumio turns").exists()


def test_a_rep_sees_and_files_documents_for_their_teams_sites_only(client, demo_site, other_site):
    rep = staff_user("rita", site=demo_site)
    rep.user_permissions.set(Permission.objects.filter(codename__endswith="knowledgedocument"))
    document_ingest(site=demo_site, name="mine.md", data=GUIDE)
    document_ingest(site=other_site, name="theirs.md", data=GUIDE)
    client.force_login(rep)
    listing = client.get(reverse("admin:leads_knowledgedocument_changelist"))
    assert [d.source for d in listing.context["cl"].queryset] == ["mine.md"]
    add = client.get(reverse("admin:leads_knowledgedocument_add"))
    choices = add.context["adminform"].form.fields["site"].queryset
    assert list(choices) == [demo_site]


def _no_passages() -> dict[str, int]:
    return {"passages-TOTAL_FORMS": 0, "passages-INITIAL_FORMS": 0}
