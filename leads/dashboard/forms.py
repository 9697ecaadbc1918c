"""Dashboard input: the lead list's filters and a rep's edit of one fact, parsed and checked."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError

from leads.dashboard.selectors.leads import LeadFilters
from leads.fields import editable, topic_by_edit_key
from leads.models import Lead
from leads.selectors.access import owners_for, sites_visible

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class LeadFilterForm(forms.Form):
    """The list's query string. An invalid part is reported and left out, never fatal."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    status = forms.MultipleChoiceField(
        required=False, choices=Lead.Status.choices, widget=forms.CheckboxSelectMultiple
    )
    score_min = forms.IntegerField(required=False, min_value=0, max_value=100, label="Score from")
    score_max = forms.IntegerField(required=False, min_value=0, max_value=100, label="to")
    site = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    owner = forms.ChoiceField(required=False)
    created_from = forms.DateField(
        required=False, label="Created from", widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        required=False, label="to", widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("updated", "Recently updated"),
            ("created", "Newest"),
            ("score", "Highest score"),
            ("last_contact", "Last contact"),
            ("name", "Name"),
        ],
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sites = sites_visible(user=user).order_by("name")
        cast(forms.ChoiceField, self.fields["site"]).choices = [("", "All sites")] + [
            (s.id, s.name) for s in sites
        ]
        cast(forms.ChoiceField, self.fields["owner"]).choices = [
            ("", "Anyone"),
            ("me", "Me"),
            ("none", "Nobody"),
        ] + [(str(u.pk), u.get_username()) for u in owners_for(user=user)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("score_min"), data.get("score_max")
        if low is not None and high is not None and low > high:
            self.add_error("score_max", "The highest score must not be below the lowest.")
        return data

    def filters(self) -> LeadFilters:
        """What the valid parts ask for (call after is_valid())."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        return LeadFilters(
            statuses=tuple(data.get("status") or ()),
            score_min=data.get("score_min"),
            score_max=data.get("score_max"),
            site_id=data.get("site"),
            owner=data.get("owner") or "",
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            q=data.get("q") or "",
            sort=data.get("sort") or "updated",
        )


class FactForm(forms.Form):
    """A rep's value for one editable fact; empty clears it."""

    def __init__(self, *args: Any, fact: str, region: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fact, self.region = fact, region
        self.fields.update(_fact_fields(fact))

    def clean_phone(self) -> str:
        text = self.cleaned_data["phone"].strip()
        if not text:
            return ""
        try:
            number = phonenumbers.parse(text, self.region)
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(f"Not a phone number: {exc}.") from None
        if not phonenumbers.is_valid_number(number):
            raise ValidationError("Not a valid phone number; include the country code, e.g. +44.")
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))

    def clean_budget_currency(self) -> str:
        return str(self.cleaned_data["budget_currency"]).strip().upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.fact == "budget" and not self.errors:
            amount, currency = data.get("budget_amount"), data.get("budget_currency")
            if amount is not None and not currency:
                self.add_error("budget_currency", "Give the budget's currency, e.g. USD.")
            if amount is None and currency:
                self.add_error("budget_amount", "Give an amount, or clear the currency too.")
        return data

    def values(self) -> dict[str, Any]:
        """The lead facts to set, None for each cleared one (call after is_valid())."""
        return {
            name: None if self.cleaned_data[name] in ("", None) else self.cleaned_data[name]
            for name in editable()[self.fact]
        }


def _label(fact: str) -> str:
    topic = topic_by_edit_key(fact)
    if topic is None:
        raise KeyError(fact)
    return topic.label


def _fact_fields(fact: str) -> dict[str, forms.Field]:
    if fact in ("name", "company", "job_title"):
        return {fact: forms.CharField(label=_label(fact), required=False, max_length=200)}
    if fact == "email":
        return {"email": forms.EmailField(label="Email", required=False)}
    if fact == "phone":
        return {"phone": forms.CharField(label="Phone", required=False, max_length=40)}
    if fact == "need":
        return {
            "need": forms.CharField(
                label="Looking for",
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        }
    if fact == "budget":
        return {
            "budget_amount": forms.DecimalField(
                label="Amount",
                required=False,
                min_value=Decimal(0),
                max_digits=14,
                decimal_places=2,
            ),
            "budget_currency": forms.RegexField(
                label="Currency",
                required=False,
                regex=r"^\s*[A-Za-z]{3}\s*$",
                error_messages={"invalid": "Use a three-letter ISO 4217 code, e.g. USD or EUR."},
            ),
        }
    if fact == "seats":
        return {
            "seats": forms.IntegerField(
                label="Seats", required=False, min_value=1, max_value=10_000_000
            )
        }
    if fact == "timeline_months":
        return {
            "timeline_months": forms.IntegerField(
                label=_label(fact), required=False, min_value=0, max_value=120
            )
        }
    if fact == "is_decision_maker":
        return {"is_decision_maker": forms.NullBooleanField(label="Decision maker", required=False)}
    raise KeyError(fact)
