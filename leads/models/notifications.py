"""Hand-offs of a qualified lead to people."""

from __future__ import annotations

from django.db import models

from leads.models.leads import Lead


class Notification(models.Model):
    """One hand-off of a lead to people: a webhook call or an email, sent once."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook"
        EMAIL = "email"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"
        # Not to be sent any more: the lead was erased before it went out.
        CANCELLED = "cancelled"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    event = models.CharField(max_length=32, default="lead.qualified")
    target = models.CharField(max_length=500, help_text="The URL or address it went to.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the last attempt began: a pending notification with none for longer than the longest
    # back-off lost its retry (a broker outage) and is queued again by the sweep.
    attempted_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "channel", "event"], name="notification_once_per_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.event} for lead {self.lead_id}: {self.status}"
