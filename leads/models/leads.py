"""Leads: what is known about the person behind a conversation, the evidence behind every fact,
and the lead's history."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from leads.fields import fact_label
from leads.models.conversations import Conversation, Message
from leads.models.sites import Site, Visitor


class Lead(models.Model):
    """What is known about the person behind one conversation, and how far they are qualified.

    The fact fields hold the current value the extraction settled on; `Evidence` keeps every
    value it saw, where it came from, and which were superseded.
    """

    class Status(models.TextChoices):
        NEW = "new"
        ENGAGED = "engaged"
        QUALIFIED = "qualified"
        DISQUALIFIED = "disqualified"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="leads")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="leads")
    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="lead")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +14155550123.")
    company = models.CharField(max_length=200, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    budget_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    budget_currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217.")
    seats = models.PositiveIntegerField(null=True, blank=True)
    timeline_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Months until they want to start; 0 is now."
    )
    is_decision_maker = models.BooleanField(null=True, blank=True)
    need = models.TextField(blank=True)
    # What the visitor would rather not say: the assistant does not ask for it again.
    declined_fields = models.JSONField(default=list, blank=True)
    score = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    # Staff set the status by hand: scoring no longer moves it.
    status_locked = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    qualified_at = models.DateTimeField(null=True, blank=True)
    # Staff erased the person's data: the row stays for the counts on the metrics page.
    erased_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["site", "status", "-updated"]),
            models.Index(fields=["-updated"]),
        ]

    def __str__(self) -> str:
        # Before the visitor says who they are, the number is all there is to tell them apart.
        return self.name or self.email or self.phone or f"Visitor #{self.pk}"

    @classmethod
    def fact_empty(cls, name: str) -> str | None:
        """What fact column `name` holds when nothing is known: None, or "" for text."""
        field = cls._meta.get_field(name)
        return None if getattr(field, "null", False) else ""


class Evidence(models.Model):
    """One value one extractor read from one message, with the quote that supports it (or one
    the host page gave)."""

    class Extractor(models.TextChoices):
        RULES = "rules"
        MODEL = "model"
        # The host page said who its logged-in visitor is (salesbot.identify()).
        HOST = "host"
        # A rep corrected the value on the dashboard: it stands until staff change it again.
        STAFF = "staff"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="evidence")
    field = models.CharField(max_length=32)
    value = models.JSONField(null=True, help_text="Null: staff cleared the field.")
    # None when the value did not come from a message (the host page, staff).
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    quote = models.TextField()
    extractor = models.CharField(max_length=8, choices=Extractor.choices)
    confidence = models.FloatField()
    # Where in the message the quote starts: one message may state a field twice
    # ("25 seats. Actually make that 28").
    position = models.PositiveIntegerField(default=0)
    # The visitor said it replaces what they said before.
    correction = models.BooleanField(default=False)
    # A later message corrected it ("sorry, my email is actually …").
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )
    # Another value for the same field stands uncorrected beside it: staff should look.
    conflict = models.BooleanField(default=False)
    # The value the lead holds now rests on this evidence.
    current = models.BooleanField(default=False)
    # The rep who wrote a staff correction.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="corrections",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["message_id", "position", "field"]
        constraints = [
            # Extraction may run twice for one message: it finds these rows again.
            models.UniqueConstraint(
                fields=["message", "field", "extractor", "position"],
                name="evidence_once_per_extractor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field}={self.value!r} ({self.extractor})"


class LeadEvent(models.Model):
    """One change to a lead, by the extraction, the scoring or a person: the lead's history."""

    class Kind(models.TextChoices):
        FIELD = "field"
        STATUS = "status"
        OWNER = "owner"
        NOTE = "note"
        # A visitor's question the Site's knowledge did not answer (a colleague will): for
        # staff to answer, and to add to the knowledge.
        UNANSWERED = "unanswered"
        TAKEOVER = "takeover"
        HANDBACK = "handback"
        ERASED = "erased"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    field = models.CharField(max_length=32, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    text = models.TextField(blank=True, help_text="A note's text.")
    # None: the extraction or the scoring made the change.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lead_events",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["lead", "-created"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.field} on lead {self.lead_id}".replace("  ", " ")

    @property
    def field_label(self) -> str:
        """The changed fact as people read it ("job title"), not as the code spells it."""
        return fact_label(self.field)
