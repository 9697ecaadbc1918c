"""Every model call, as `llm.metrics` reports it: for the metrics page's latencies, errors,
failovers and costs per model and role."""

from __future__ import annotations

from django.db import models

from leads.models.conversations import Conversation


class ModelCall(models.Model):
    class Outcome(models.TextChoices):
        OK = "ok", "Answered"
        ERROR = "error", "Failed"
        PREEMPTED = "preempted", "Gave way"
        STOPPED = "stopped", "Stopped early"  # tokens estimated (llm.metrics.observed)

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    role = models.CharField(max_length=32, blank=True)  # reply, extraction, suggestion, …
    model = models.CharField(max_length=200)  # the model that answered, else the one called
    backend = models.CharField(max_length=32)
    tier = models.CharField(max_length=16, blank=True)  # the router's, if any
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="model_calls"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    error_type = models.CharField(max_length=64, blank=True)
    failovers = models.JSONField(default=list, blank=True)  # models that failed before it
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    total_ms = models.PositiveIntegerField()
    tokens_per_second = models.FloatField(null=True, blank=True)
    agreement = models.FloatField(null=True, blank=True)  # an ensemble's
    cost = models.FloatField(default=0.0)  # at the models' prices (LLM_COST_CURRENCY)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["role", "model", "created"])]

    def __str__(self) -> str:
        return f"{self.role or 'call'} on {self.model} ({self.outcome})"
