"""A visitor's conversation and its messages: the visitor's, the assistant's and a rep's."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from leads.models.sites import Site, Visitor


class Conversation(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="conversations")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="conversations")
    # When the visitor accepted the privacy notice, and which notice it was.
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_notice = models.URLField(blank=True)
    # A rep who has taken the conversation over: the assistant does not reply while one is set.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations_taken",
    )
    agent_since = models.DateTimeField(null=True, blank=True)
    # A few lines for sales staff, and for the reply's prompt once the conversation outgrows
    # the model's context: every finished message up to `summary_through` (a message id),
    # folded in by the `summary` role's model (leads/services/summaries.py).
    summary = models.TextField(blank=True)
    summary_through = models.BigIntegerField(null=True, blank=True)
    # The person's data was erased (their lead's erasure, or by person): the conversation takes
    # no more writes of any kind, and a reply or an extraction in flight drops its output.
    erased_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["visitor", "-created"])]

    def __str__(self) -> str:
        return f"conversation {self.pk}"


class Message(models.Model):
    class Role(models.TextChoices):
        VISITOR = "visitor"
        ASSISTANT = "assistant"
        # A person from the sales team who took the conversation over.
        AGENT = "agent"

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
    # The qualification field an assistant message asked for: the visitor's next message
    # answers it, or declines it.
    asked_field = models.CharField(max_length=32, blank=True)
    # The turn's note the model read before writing this reply (what is known, what to ask):
    # later prompts replay it as it was, so the conversation's evaluated prefix stays valid.
    turn_note = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A visitor message's reading by the extraction worker (the model pass): when it was done,
    # and how often it was begun; the sweep queues it again while neither says it is finished.
    extracted_at = models.DateTimeField(null=True, blank=True)
    extraction_attempts = models.PositiveSmallIntegerField(default=0)
    # The rep who wrote an agent message.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages_written",
    )
    # How an assistant reply was made, for the metrics page.
    model_name = models.CharField(max_length=200, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    # Of the prompt, the tokens the engine had evaluated already (the conversation kept warm).
    cached_tokens = models.PositiveIntegerField(null=True, blank=True)
    first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    generation_ms = models.PositiveIntegerField(null=True, blank=True)
    # Where the router sent the reply (llm.router): its tier, the message's complexity score
    # and the signals that made it; blank without a router.
    route_tier = models.CharField(max_length=16, blank=True)
    route_score = models.FloatField(null=True, blank=True)
    route_reasons = models.JSONField(default=list, blank=True)
    # An ensemble's reply: its mean cosine similarity to the other models' answers.
    agreement = models.FloatField(null=True, blank=True)
    # What the leak guard (leads/guard.py) stopped the reply for repeating: the system prompt's
    # "canary" or a run of its instructions ("prompt"); blank when the reply passed.
    leak = models.CharField(max_length=16, blank=True)
    # How the reply was composed (leads/services/compose.py), for staff reading the transcript:
    # what the visitor's message asked (an Intent), their language, the passages of the Site's
    # knowledge it was given ({"id", "heading", "text"} as they stood: a passage edited since
    # still shows what the reply rested on), and the model's sentences the reply guard kept
    # from the visitor ({"sentence", "failures"}). Blank for replies before composition.
    intent = models.CharField(max_length=16, blank=True)
    language = models.CharField(max_length=8, blank=True)
    sources = models.JSONField(default=list, blank=True)
    withheld = models.JSONField(default=list, blank=True)
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

    @property
    def intent_label(self) -> str:
        """What the visitor's message asked, as staff read it ("small talk")."""
        return self.intent.replace("_", " ")
