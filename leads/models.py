"""The product's domain: sites that embed the widget, their visitors, conversations and messages."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Site(models.Model):
    """A company website that embeds the widget under a public key."""

    key = models.SlugField(max_length=64, unique=True, help_text="Public key used in data-site.")
    name = models.CharField(max_length=200)
    description = models.TextField(
        blank=True, help_text="What the company sells; the assistant may use it in replies."
    )
    prompt_overrides = models.JSONField(
        default=dict,
        blank=True,
        help_text="Own prompt texts by use case (qualification_reply, extraction, summary), "
        "replacing the stored templates; $company_name and $company_description are filled in.",
    )
    allowed_origins = models.JSONField(
        default=list,
        blank=True,
        help_text='Origins that may open the chat, e.g. "https://example.com", '
        '"https://*.example.com", "http://localhost:*".',
    )
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class Visitor(models.Model):
    """Someone chatting on a site, known by the secret token their browser keeps."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="visitors")
    token = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"visitor {self.pk} on {self.site.key}"


class Conversation(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="conversations")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="conversations")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["visitor", "-created"])]

    def __str__(self) -> str:
        return f"conversation {self.pk}"


class Message(models.Model):
    class Role(models.TextChoices):
        VISITOR = "visitor"
        ASSISTANT = "assistant"

    class Status(models.TextChoices):
        COMPLETE = "complete"
        GENERATING = "generating"
        FAILED = "failed"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETE)
    # The widget's own id for a visitor message: the same id sent twice is stored once.
    client_id = models.UUIDField(null=True, blank=True)
    # An assistant message answers exactly one visitor message: a second run of the reply task
    # finds this row instead of writing another.
    in_reply_to = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="reply"
    )
    # Who is generating this reply and since when: another task may take it over only once
    # the lease has expired, or at once if it is a redelivery of the same task (its worker died).
    task_id = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=Q(client_id__isnull=False),
                name="message_client_id_once_per_conversation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} message {self.pk}"
