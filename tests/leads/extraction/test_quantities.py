"""Seats, budget and timeline: numbers that count because of the words around them."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from leads.extraction.facts import Turn, Value
from leads.extraction.rules import rules_extract

if TYPE_CHECKING:
    from tests.leads.extraction.conftest import Facts


# --- seats ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seats"),
    [
        ("We need 40 seats.", 40),
        ("We'd need twenty-five licenses.", 25),
        ("3 user licences please", 3),
        ("it's for 60 employees", 60),
        ("cinquante utilisateurs pour commencer", 50),
        ("wir brauchen zwölf Lizenzen", 12),
    ],
)
def test_seats_are_read_in_digits_and_number_words(facts: Facts, text: str, seats: int) -> None:
    assert facts(text).get("seats") == seats


@pytest.mark.parametrize(
    "text",
    [
        "about 40 people would use it",
        "8-10 users to start",
        "maybe 15 users",
        "roughly thirty seats",
        "40 or so seats",
    ],
)
def test_an_estimate_is_not_a_seat_count(facts: Facts, text: str) -> None:
    assert "seats" not in facts(text)


@pytest.mark.parametrize(
    "text",
    ["we need 40 seats or so", "12 seats give or take", "we need 40 users, maybe more"],
)
def test_an_estimate_hedged_after_the_noun_is_not_a_seat_count(facts: Facts, text: str) -> None:
    assert "seats" not in facts(text)


@pytest.mark.parametrize(
    "text",
    [
        "we have 200 employees",
        "a 6-person startup looking for a CRM",
        "plus we'll hire 10 more staff in spring",
    ],
)
def test_company_size_is_not_a_seat_count(facts: Facts, text: str) -> None:
    assert "seats" not in facts(text)


def test_only_the_people_who_need_access_are_seats(facts: Facts) -> None:
    assert facts("We have 200 employees but only 12 of them need access.").get("seats") == 12


def test_bare_number_answering_how_many_is_a_seat_count(facts: Facts) -> None:
    assert facts("14", question="How many people would use it?").get("seats") == 14


@pytest.mark.parametrize(
    "answer",
    [
        "Call me on +49 30 901820.",
        "Reach me at team42@lumen.io",
        "I sign off on purchases like this one.",
    ],
)
def test_a_phone_number_address_or_pronoun_answering_how_many_is_no_count(
    facts: Facts, answer: str
) -> None:
    assert "seats" not in facts(answer, question="How many people would use it?")


def test_one_answering_how_many_is_a_count(facts: Facts) -> None:
    assert facts("Just one for now", question="How many people would use it?").get("seats") == 1


def test_corrected_seat_count_replaces_the_first(facts: Facts) -> None:
    assert facts("Let's say 30 seats. Actually make that 35.").get("seats") == 35


# --- budget ---------------------------------------------------------------------------------


def _budget(values: dict[str, Value]) -> dict[str, Value]:
    return {k: v for k, v in values.items() if k in ("budget_amount", "budget_currency")}


@pytest.mark.parametrize(
    ("region", "text", "amount", "currency"),
    [
        ("US", "Our budget is $20k for the year.", Decimal(20000), "USD"),
        ("US", "Our budget is $1.2M for the rollout.", Decimal(1_200_000), "USD"),
        ("US", "The budget is $12,500.", Decimal(12500), "USD"),
        ("DE", "Unser Budget liegt bei €30.000.", Decimal(30000), "EUR"),
        ("FR", "notre budget est de 18 000 €", Decimal(18000), "EUR"),
        ("DE", "wir haben 30.000 EUR eingeplant", Decimal(30000), "EUR"),
        ("GB", "We can put £8k towards this.", Decimal(8000), "GBP"),
        ("IN", "Our budget is ₹7.5 lakh.", Decimal(750_000), "INR"),
        ("IN", "we can spend Rs 3,50,000", Decimal(350_000), "INR"),
        ("BR", "nosso orçamento é de R$ 65 mil", Decimal(65000), "BRL"),
        ("MX", "nuestro presupuesto es de $180,000 MXN", Decimal(180_000), "MXN"),
    ],
)
def test_budget_is_read_in_local_formats(
    facts: Facts, region: str, text: str, amount: Decimal, currency: str
) -> None:
    expected = {"budget_amount": amount, "budget_currency": currency}
    assert _budget(facts(text, region=region)) == expected


def test_a_budget_is_quoted_without_the_space_after_it() -> None:
    turns = [Turn(0, "visitor", "Our budget is €45,000 and we start soon.")]
    quotes = {c.quote for c in rules_extract(turns, 0, region="DE") if c.field.startswith("budget")}
    assert quotes == {"€45,000"}


def test_budget_in_rupees_written_rs_dot(facts: Facts) -> None:
    expected = {"budget_amount": Decimal(500_000), "budget_currency": "INR"}
    assert _budget(facts("our budget is Rs. 5 lakh", region="IN")) == expected


@pytest.mark.parametrize(
    ("region", "currency"),
    [("US", "USD"), ("CA", "CAD"), ("AU", "AUD")],
)
def test_bare_dollar_sign_is_the_regions_dollar(facts: Facts, region: str, currency: str) -> None:
    assert facts("Our budget is $20k.", region=region).get("budget_currency") == currency


@pytest.mark.parametrize(
    "text",
    [
        "we can spend between $10k and $15k",
        "budget is $2,000 per month",
        "budget of $500/mo",
        "budget: $3,000 – $5,000 per year",
    ],
)
def test_range_or_monthly_budget_gives_the_currency_only(facts: Facts, text: str) -> None:
    assert _budget(facts(text)) == {"budget_currency": "USD"}


@pytest.mark.parametrize(
    "text",
    [
        "we were charged $300 on the last invoice",
        "I paid $49 for the old tool and it was useless",
        "Earn $5,000 a week from home, guaranteed returns!",
    ],
)
def test_bills_and_spam_money_are_not_a_budget(facts: Facts, text: str) -> None:
    assert _budget(facts(text)) == {}


@pytest.mark.parametrize(
    "text",
    [
        "We set the budget at $20k for this.",
        "I will update the team once our budget of $20k is approved.",
    ],
)
def test_budget_phrased_with_set_or_update_is_a_budget(facts: Facts, text: str) -> None:
    assert facts(text).get("budget_amount") == Decimal(20000)


# --- timeline -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("We need it asap.", 0),
        ("We'd like to be live within 30 days.", 1),
        ("We plan to roll out next quarter.", 3),
        ("We'd like to start in two months.", 2),
        ("We need it up and running within 6 months.", 6),
        ("nous voulons démarrer le mois prochain", 1),
        ("queremos empezar lo antes posible", 0),
        ("wir wollen in drei Monaten starten", 3),
    ],
)
def test_timeline_is_months_until_they_start(facts: Facts, text: str, months: int) -> None:
    assert facts(text).get("timeline_months") == months


@pytest.mark.parametrize(
    ("answer", "months"),
    [("next quarter", 3), ("in 6 weeks", 1), ("asap", 0)],
)
def test_short_answer_to_when_is_a_timeline(facts: Facts, answer: str, months: int) -> None:
    got = facts(answer, question="When are you hoping to get started?")
    assert got.get("timeline_months") == months


@pytest.mark.parametrize(
    "text",
    [
        "Rollout by the end of the year would be great.",
        "We'd aim to switch over in January.",
        "Looking to deploy in Q3.",
    ],
)
def test_a_calendar_date_is_not_turned_into_months(facts: Facts, text: str) -> None:
    assert "timeline_months" not in facts(text)


@pytest.mark.parametrize(
    "text",
    [
        "we're hiring next month",
        "my vacation is next month",
        "we're hiring 10 people in two months",
    ],
)
def test_no_timeline_without_a_buying_context(facts: Facts, text: str) -> None:
    assert "timeline_months" not in facts(text)


def test_corrected_timeline_replaces_the_first(facts: Facts) -> None:
    text = "we want to start in three months, actually make that next month"
    assert facts(text).get("timeline_months") == 1
