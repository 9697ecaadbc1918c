"""A Site's knowledge in the admin: its FAQ edited with the Site, its documents uploaded and
read into passages (leads/services/knowledge.py), the passages shown as they were read."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from leads.admin.base import ReadOnlyInline, TeamScopedAdmin, request_staff
from leads.errors import DocumentInvalid
from leads.models import FaqEntry, KnowledgeDocument, Passage
from leads.selectors.access import sites_visible
from leads.services.knowledge import document_ingest, faq_passage_sync


class FaqEntryInline(admin.TabularInline[FaqEntry, Any]):
    model = FaqEntry
    extra = 1
    fields = ["position", "question", "answer"]


def faq_saved(entries: list[FaqEntry]) -> None:
    """After the Site's FAQ formset saved: each entry's passage as it now reads."""
    for entry in entries:
        faq_passage_sync(entry=entry)


class DocumentForm(forms.ModelForm[KnowledgeDocument]):
    file = forms.FileField(
        required=False,
        help_text="Markdown (.md), HTML (.html), PDF (.pdf) or plain text (.txt), at most 10 MiB. "
        "Uploading a file of the same name again replaces the document.",
    )

    class Meta:
        model = KnowledgeDocument
        fields = ["site", "title"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["title"].required = False
        self.fields["title"].help_text = "Empty: the document's first heading, or its file name."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        if upload is None and self.instance.pk is None:
            raise forms.ValidationError("Choose the file to read.")
        if upload is not None and cleaned.get("site") is not None:
            try:
                self.instance = document_ingest(
                    site=cleaned["site"],
                    name=upload.name,
                    data=upload.read(),
                    title=cleaned.get("title") or "",
                )
            except DocumentInvalid as exc:
                raise forms.ValidationError(str(exc)) from None
        return cleaned


class PassageInline(ReadOnlyInline):
    model = Passage
    fields = ["position", "heading", "text"]
    show_change_link = False


@admin.register(KnowledgeDocument)
class KnowledgeDocumentAdmin(TeamScopedAdmin[KnowledgeDocument]):
    form = DocumentForm
    list_display = ["title", "site", "kind", "source", "updated"]
    list_filter = ["kind"]
    search_fields = ["title", "source", "passages__text"]
    inlines = [PassageInline]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "site" and not getattr(request.user, "is_superuser", False):
            kwargs["queryset"] = sites_visible(user=request_staff(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["kind", "source", "digest"] if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: KnowledgeDocument, form: Any, change: bool
    ) -> None:
        # The form read the file (document_ingest saved the document and its passages);
        # without a new file, only the title changes.
        if not form.cleaned_data.get("file"):
            super().save_model(request, obj, form, change)
