"""A company website that embeds the widget, and the visitors who chat on it."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from leads.errors import FieldsInvalid, LimitsInvalid, ScoringConfigInvalid, ThemeInvalid
from leads.fields import DEFAULT_QUALIFICATION_ORDER
from leads.limits import ChatLimits, limits_parse
from leads.outbound import OutboundRefused, url_check
from leads.policy import validate_fields
from leads.scoring import weights_validate
from leads.theme import theme_parse


def default_qualification_fields() -> list[str]:
    return list(DEFAULT_QUALIFICATION_ORDER)


def default_score_weights() -> dict[str, int]:
    # BANT: budget, authority, need, timeline, plus whether a person can reach the lead.
    return {"budget": 25, "authority": 20, "need": 20, "timeline": 20, "contact": 15}


class Site(models.Model):
    """A company website that embeds the widget under a public key."""

    key = models.SlugField(max_length=64, unique=True, help_text="Public key used in data-site.")
    name = models.CharField(max_length=200)
    description = models.TextField(
        blank=True,
        max_length=5000,  # in every reply's prompt
        help_text="What the company sells; the assistant may use it in replies.",
    )
    prompt_overrides = models.JSONField(
        default=dict,
        blank=True,
        help_text="Own prompt texts by use case (qualification_reply, reply_turn, extraction, "
        "summary), replacing the stored templates; see docs/configuration.md for the "
        "variables each one is given.",
    )
    reply_sentences = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="The most sentences in one reply of the assistant; it is asked for two to "
        "that many, and stops after the last.",
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
        help_text="Key with which your server signs the email, user id and expiry it passes to "
        "salesbot.identify() (HMAC-SHA256, hex; docs/protocol.md). Set, unsigned, wrongly "
        "signed or expired identities are refused; unset, identify() is taken as a hint that "
        "loses to what the visitor says.",
    )
    consent_required = models.BooleanField(
        default=False,
        help_text="Visitors must accept the privacy notice before they can send a message; "
        "the acceptance is recorded with the conversation.",
    )
    qualification_fields = models.JSONField(
        default=default_qualification_fields,
        blank=True,
        help_text="The facts the assistant asks for, in order: "
        + ", ".join(DEFAULT_QUALIFICATION_ORDER)
        + ".",
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

    limits = models.JSONField(
        default=dict,
        blank=True,
        help_text="The chat's abuse limits, each optional: "
        + ", ".join(
            f"{name} (default {field.default})" for name, field in ChatLimits.model_fields.items()
        )
        + "; see docs/security.md.",
    )

    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Conversations (with their leads) untouched for this many days are deleted by "
        "the daily purge (manage.py purge_leads); empty: kept until deleted or erased.",
    )

    class OverBudget(models.TextChoices):
        WARN = "warn", "Warn staff"
        CHEAPER = "cheaper", "Warn staff and answer with the simple tier's model"

    budget_daily = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="What the models may cost a day for this site's conversations "
        "(LLM_COST_CURRENCY, at the models' prices); empty: no daily budget.",
    )
    budget_monthly = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The same for a calendar month; empty: no monthly budget.",
    )
    over_budget = models.CharField(
        max_length=8,
        choices=OverBudget.choices,
        default=OverBudget.WARN,
        help_text="Once a budget is spent: warn staff on the dashboard, or also route every "
        "reply to the router's simple tier (the cheapest model) until the period ends.",
    )
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    def clean(self) -> None:
        errors = {}
        try:
            theme_parse(self.theme)
        except ThemeInvalid as exc:
            errors["theme"] = str(exc)
        if self.consent_required and not self.privacy_notice_url:
            errors["privacy_notice_url"] = "visitors need a privacy notice to consent to"
        try:
            limits_parse(self.limits)
        except LimitsInvalid as exc:
            errors["limits"] = str(exc)
        try:
            validate_fields(self.qualification_fields)
        except FieldsInvalid as exc:
            errors["qualification_fields"] = str(exc)
        try:
            if self.score_weights:  # empty: the defaults
                weights_validate(self.score_weights)
        except ScoringConfigInvalid as exc:
            errors["score_weights"] = str(exc)
        if self.qualified_score < self.engaged_score:
            errors["qualified_score"] = "must be at least the engaged score"
        if self.webhook_url and not self.webhook_secret:
            errors["webhook_secret"] = "a webhook needs a secret to sign its requests with"
        if self.webhook_url:
            try:
                url_check(self.webhook_url, allow_http=settings.WEBHOOK_ALLOW_HTTP)
            except OutboundRefused as exc:
                errors["webhook_url"] = str(exc)
        if errors:
            raise ValidationError(errors)


class Visitor(models.Model):
    """Someone chatting on a site, known by the secret token their browser keeps."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="visitors")
    # The SHA-256 (hex) of the browser's token (leads.signing.token_digest), never the token.
    token = models.CharField(max_length=64, unique=True, verbose_name="token digest")
    created = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"visitor {self.pk} on {self.site.key}"
