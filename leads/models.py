"""The product's domain: sites and their visitors, conversations, messages, and the leads
qualified from them with the evidence behind every fact."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q

from leads.extraction.facts import FIELDS, TEXT_FIELDS

# The facts a lead is qualified on, in the order the assistant asks for them by default.
LEAD_FIELDS = (
    "name",
    "company",
    "job_title",
    "need",
    "seats",
    "budget",
    "timeline",
    "decision_maker",
    "email",
    "phone",
)
# Facts as the extraction stores them: "budget" is an amount and a currency.
FACT_FIELDS = (*FIELDS, *TEXT_FIELDS)


def default_qualification_fields() -> list[str]:
    return list(LEAD_FIELDS)


def default_score_weights() -> dict[str, int]:
    # BANT: budget, authority, need, timeline, plus whether a person can reach the lead.
    return {"budget": 25, "authority": 20, "need": 20, "timeline": 20, "contact": 15}


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
    greeting = models.CharField(
        max_length=500, blank=True, help_text="The widget's first message; empty for none."
    )
    theme = models.JSONField(
        default=dict,
        blank=True,
        help_text='Widget look: {"color": "#1f5eff", "title": "Chat with Acme", '
        '"position": "right" or "left", "avatar_url": "https://…"}; every key optional.',
    )
    privacy_notice_url = models.URLField(
        blank=True, help_text="Shown to visitors before their first message."
    )
    identity_secret = models.CharField(
        max_length=128,
        blank=True,
        help_text="Key with which your server signs the email it passes to salesbot.identify() "
        "(HMAC-SHA256, hex). Set, unsigned or wrongly signed emails are refused; unset, "
        "identify() is taken as a hint that loses to what the visitor says.",
    )
    consent_required = models.BooleanField(
        default=False,
        help_text="Visitors must accept the privacy notice before they can send a message; "
        "the acceptance is recorded with the conversation.",
    )
    qualification_fields = models.JSONField(
        default=default_qualification_fields,
        blank=True,
        help_text="The facts the assistant asks for, in order: " + ", ".join(LEAD_FIELDS) + ".",
    )
    default_region = models.CharField(
        max_length=2,
        default="US",
        help_text="ISO 3166 region for phone numbers written without a country code, "
        "and for the currency of a bare $.",
    )
    business_hours = models.JSONField(
        default=dict,
        blank=True,
        help_text='When people answer, e.g. {"timezone": "Europe/Berlin", '
        '"days": {"mon": ["09:00", "17:00"]}}; the assistant may mention it.',
    )
    next_step = models.TextField(
        blank=True,
        help_text="What the assistant offers a qualified lead, e.g. "
        '"Book a call with our team: https://cal.example.com/acme".',
    )
    score_weights = models.JSONField(
        default=default_score_weights,
        blank=True,
        help_text="Points for budget, authority, need, timeline and contact; they sum to 100.",
    )
    engaged_score = models.PositiveSmallIntegerField(
        default=20, help_text="A new lead becomes engaged at this score."
    )
    qualified_score = models.PositiveSmallIntegerField(
        default=70, help_text="An engaged lead becomes qualified at this score."
    )
    webhook_url = models.URLField(
        blank=True, help_text="Receives a signed JSON POST when a lead is qualified."
    )
    webhook_secret = models.CharField(
        max_length=128, blank=True, help_text="Key of the webhook's HMAC-SHA256 signature."
    )
    sales_email = models.EmailField(
        blank=True, help_text="Told of qualified leads that have no owner."
    )
    team = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="sites",
        help_text="Staff who work this site's leads on the dashboard; superusers see every site.",
    )
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    def clean(self) -> None:
        from leads.policy import validate_fields
        from leads.scoring import ScoringConfigError, weights_validate
        from leads.widget import ThemeError, theme_parse

        errors = {}
        try:
            theme_parse(self.theme)
        except ThemeError as exc:
            errors["theme"] = str(exc)
        if self.consent_required and not self.privacy_notice_url:
            errors["privacy_notice_url"] = "visitors need a privacy notice to consent to"
        try:
            validate_fields(self.qualification_fields)
        except ValueError as exc:
            errors["qualification_fields"] = str(exc)
        try:
            if self.score_weights:  # empty: the defaults
                weights_validate(self.score_weights)
        except ScoringConfigError as exc:
            errors["score_weights"] = str(exc)
        if self.qualified_score < self.engaged_score:
            errors["qualified_score"] = "must be at least the engaged score"
        if self.webhook_url and not self.webhook_secret:
            errors["webhook_secret"] = "a webhook needs a secret to sign its requests with"
        if errors:
            raise ValidationError(errors)


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
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
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
    first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    generation_ms = models.PositiveIntegerField(null=True, blank=True)
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


class Notification(models.Model):
    """One hand-off of a lead to people: a webhook call or an email, sent once."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook"
        EMAIL = "email"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    event = models.CharField(max_length=32, default="lead.qualified")
    target = models.CharField(max_length=500, help_text="The URL or address it went to.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
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


class LeadEvent(models.Model):
    """One change to a lead, by the extraction, the scoring or a person: the lead's history."""

    class Kind(models.TextChoices):
        FIELD = "field"
        STATUS = "status"
        OWNER = "owner"
        NOTE = "note"
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
        try:
            return str(Lead._meta.get_field(self.field).verbose_name)
        except FieldDoesNotExist:
            return self.field


class DashboardVisit(models.Model):
    """When a rep last looked at the lead list: leads since then carry a "new" badge."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dashboard_visit"
    )
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user} looked at {self.seen_at:%Y-%m-%d %H:%M}"
