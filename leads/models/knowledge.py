"""What a Site's agent may say: its FAQ entries and documents, read into passages that replies
are grounded in (the product summary is `Site.description`)."""

from __future__ import annotations

from django.db import models

from leads.models.sites import Site


class KnowledgeDocument(models.Model):
    """A document staff gave a Site (Markdown, HTML, PDF or text), kept as its passages."""

    class Kind(models.TextChoices):
        MARKDOWN = "markdown", "Markdown"
        HTML = "html", "HTML"
        PDF = "pdf", "PDF"
        TEXT = "text", "Plain text"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    source = models.CharField(max_length=255, blank=True, help_text="The file it was read from.")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the file as uploaded.")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class FaqEntry(models.Model):
    """A question a visitor may ask and the answer the Site stands behind."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="faq")
    question = models.CharField(max_length=500)
    answer = models.TextField(max_length=5000)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"

    def __str__(self) -> str:
        return self.question


class Passage(models.Model):
    """A stretch of a Site's knowledge, retrieved and quoted on its own: from a document, an FAQ
    entry, or the Site's product summary (neither)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="passages")
    document = models.ForeignKey(
        KnowledgeDocument,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="passages",
    )
    faq = models.ForeignKey(
        FaqEntry, null=True, blank=True, on_delete=models.CASCADE, related_name="passages"
    )
    position = models.PositiveIntegerField(default=0)
    heading = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    # Its embedding (float32, L2-normalised) and the model that made it: retrieval compares
    # only vectors of one model, and embeds again what another model made.
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=100, blank=True, editable=False)

    class Meta:
        ordering = ["document_id", "faq_id", "position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(document__isnull=True) | models.Q(faq__isnull=True),
                name="passage_one_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.heading or self.site.name}: {self.text[:60]}"
